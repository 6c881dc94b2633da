//! Mail (SPEC §6b): password-reset links and address verification, sent through the operator's
//! SMTP server with `lettre` (`GATEHOUSE_SMTP_URL`: `smtps://…` for TLS, `smtp://…?tls=required`
//! for STARTTLS, plain `smtp://host:port` only for a relay on the same host). Bodies come from
//! templates (`domain/templates/mail/`, askama: the HTML part escaped by construction), a plain
//! text part and an HTML part in every message.
//!
//! Sending happens after the answer is decided, on a task of its own: whether a message goes
//! out (an account exists) must not show in how long the request took. A failure is logged
//! once, with the cause, never with the link.

use askama::Template;
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use model::i18n::Lang;
use model::tr;

/// Where mail goes out, and from whom.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailer(from {})", self.from)
    }
}

impl Mailer {
    /// A mailer for `url` (credentials may be in it) sending as `from` (`Name <a@b>` or `a@b`).
    pub fn new(url: &str, from: &str) -> Result<Mailer, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("GATEHOUSE_SMTP_URL: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| format!("GATEHOUSE_MAIL_FROM: {e}"))?;
        Ok(Mailer { transport, from })
    }

    /// Sends a message of both parts to `to`.
    pub async fn send(&self, to: &str, mail: &Mail) -> Result<(), String> {
        let to = to
            .parse::<Mailbox>()
            .map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(mail.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(mail.html.clone()),
                    ),
            )
            .map_err(|e| e.to_string())?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// A message ready to send.
#[derive(Clone, Debug)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a link message says: who it is for, what it does, the link and how long it works, in
/// the person's language (every sentence from the catalogues).
struct LinkWords<'a> {
    lang: &'static str,
    product: &'a str,
    hello: String,
    intro: String,
    action: String,
    copy: String,
    link: &'a str,
    once: String,
    not_you: String,
}

/// The plain-text part (askama needs a type per template; both read the same words).
#[derive(Template)]
#[template(path = "mail/link.txt")]
struct LinkText<'a>(&'a LinkWords<'a>);

/// The HTML part.
#[derive(Template)]
#[template(path = "mail/link.html")]
struct LinkHtml<'a>(&'a LinkWords<'a>);

/// The kinds of link Gatehouse mails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// "Forgot your password?": a link to choose a new one.
    PasswordReset,
    /// Self-registration: a link that confirms the address.
    VerifyAddress,
}

/// The message with `link` for `name`, from `product`, valid `minutes`, in `lang`.
pub fn link_mail(
    lang: Lang,
    kind: LinkKind,
    product: &str,
    name: &str,
    link: &str,
    minutes: i64,
) -> Result<Mail, String> {
    let (subject, intro, action, not_you) = match kind {
        LinkKind::PasswordReset => (
            tr!(lang, "mail-reset-subject", product = product),
            lang.t("mail-reset-intro"),
            lang.t("mail-reset-action"),
            lang.t("mail-reset-not-you"),
        ),
        LinkKind::VerifyAddress => (
            tr!(lang, "mail-verify-subject", product = product),
            lang.t("mail-verify-intro"),
            lang.t("mail-verify-action"),
            lang.t("mail-verify-not-you"),
        ),
    };
    let words = LinkWords {
        lang: lang.tag(),
        product,
        hello: tr!(lang, "mail-hello", name = name),
        intro,
        action,
        copy: lang.t("mail-copy"),
        link,
        once: tr!(lang, "mail-once", minutes = minutes),
        not_you,
    };
    let text = LinkText(&words).render().map_err(|e| e.to_string())?;
    let html = LinkHtml(&words).render().map_err(|e| e.to_string())?;
    Ok(Mail {
        subject,
        text,
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_part_escapes_what_it_is_given_and_both_parts_carry_the_link() {
        let m = link_mail(
            Lang::En,
            LinkKind::PasswordReset,
            "Acme <ID>",
            "Bob \"<script>\"",
            "https://id.example/login/reset?token=abc&x=1",
            30,
        )
        .expect("mail");
        assert_eq!(m.subject, "Reset your Acme <ID> password");
        assert!(m
            .text
            .contains("https://id.example/login/reset?token=abc&x=1"));
        assert!(m.text.contains("30 minutes"));
        assert!(!m.html.contains("<script>"), "{}", m.html);
        assert!(
            m.html.contains("Bob &#34;&#60;script&#62;&#34;") || m.html.contains("&lt;script&gt;"),
            "{}",
            m.html
        );
        assert!(
            m.html
                .contains("href=\"https://id.example/login/reset?token=abc&#38;x=1\"")
                || m.html.contains("token=abc&amp;x=1"),
            "{}",
            m.html
        );
    }

    /// (A runtime: lettre's connection pool starts a task when the transport is built.)
    #[tokio::test]
    async fn a_bad_url_or_sender_is_refused_with_its_name() {
        assert!(Mailer::new("ftp://x", "a@b.example")
            .expect_err("scheme")
            .contains("GATEHOUSE_SMTP_URL"));
        assert!(Mailer::new("smtp://127.0.0.1:2525", "not an address")
            .expect_err("from")
            .contains("GATEHOUSE_MAIL_FROM"));
    }
}
