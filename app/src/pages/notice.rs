//! Notices: the pages an endpoint answers with when there is nothing else to show — an
//! authorize request that cannot be completed, a sign-out to confirm or done, a portal area the
//! person has no right to, a failure on our side. The endpoint decides (and sets the status);
//! the page is drawn here, in the same shell as every other page, from the [`Notice`] it
//! provides (`server::portal::notice`). The app reads it as a shared value, so the browser
//! hydrates the same notice without asking the server again.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// What a notice page says. Built with [`Notice::new`] and its `with_…` steps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// The window title, before " · {product name}".
    pub title: String,
    pub heading: String,
    /// The paragraph that says what happened; announced to screen readers when `alert`.
    pub message: String,
    pub alert: bool,
    /// Further paragraphs (what the person can do now).
    pub more: Vec<String>,
    /// A way on: `(href, text)`.
    pub link: Option<(String, String)>,
    /// A form to confirm with (it posts without JavaScript).
    pub form: Option<NoticeForm>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NoticeForm {
    pub action: String,
    /// Hidden fields, in order (the CSRF token among them).
    pub hidden: Vec<(String, String)>,
    pub button: String,
}

impl Notice {
    pub fn new(title: &str, heading: &str, message: &str) -> Self {
        Notice {
            title: title.into(),
            heading: heading.into(),
            message: message.into(),
            ..Notice::default()
        }
    }

    /// The message is an error or a refusal: `role="alert"`.
    pub fn alert(mut self) -> Self {
        self.alert = true;
        self
    }

    pub fn with_more(mut self, line: &str) -> Self {
        self.more.push(line.into());
        self
    }

    pub fn with_link(mut self, href: &str, text: &str) -> Self {
        self.link = Some((href.into(), text.into()));
        self
    }

    pub fn with_form(mut self, form: NoticeForm) -> Self {
        self.form = Some(form);
        self
    }
}

/// The notice the server rendered this page with, if any: the same value on the server (from
/// the context the endpoint provided) and in the browser (read back from the page while
/// hydrating), so both draw the same thing.
pub fn current() -> Option<Notice> {
    SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        {
            use_context::<Notice>()
        }
        #[cfg(not(feature = "ssr"))]
        {
            None
        }
    })
    .into_inner()
}

#[component]
pub fn NoticePage(n: Notice) -> impl IntoView {
    let Notice {
        title,
        heading,
        message,
        alert,
        more,
        link,
        form,
    } = n;
    view! {
        <Title text=title.clone()/>
        <main class="center">
            <h1>{heading}</h1>
            <p role=alert.then_some("alert")>{message}</p>
            {more.into_iter().map(|line| view! { <p>{line}</p> }).collect_view()}
            {form.map(|f| view! {
                <form method="post" action=f.action>
                    {f.hidden.into_iter().map(|(name, value)| view! {
                        <input type="hidden" name=name value=value/>
                    }).collect_view()}
                    <button type="submit" class="primary">{f.button}</button>
                </form>
            })}
            {link.map(|(href, text)| view! { <p><a href=href>{text}</a></p> })}
        </main>
    }
}
