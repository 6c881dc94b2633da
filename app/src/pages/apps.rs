//! The Apps screens: the list (filter by category, search) and the app screen with the sections
//! Description, General Usage, Tokens, Scope, User Access and Changelog, and one Save.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use model::i18n::msg;
use model::scopes::RestRegex;

use crate::api::apps::{
    app_changelog, list_apps, load_editor, AppForm, AuthMethod, Change, ClientIdType,
    ClientRegistration, DeleteApp, EditorData, FormOp, Lifetime, SaveApp, Scope, TokenType,
    APPS_PAGE, UNITS,
};
use crate::api::{encode_query, FormResult};
use crate::components::error_text;
use crate::i18n::{tr, use_lang, Lang};

fn page_link(q: &str, category: &str, offset: i64) -> String {
    format!(
        "/admin/apps?q={}&category={}&offset={offset}",
        encode_query(q),
        encode_query(category)
    )
}

/// The key of a client id type's name.
fn client_id_type_key(v: ClientIdType) -> &'static str {
    match v {
        ClientIdType::Anything => msg("apps-client-id-anything"),
        ClientIdType::List => msg("apps-client-id-list"),
        ClientIdType::Confidential => msg("apps-client-id-confidential"),
        ClientIdType::Registered => msg("apps-client-id-registered"),
    }
}

/// The key of a client registration setting's name.
fn registration_key(v: ClientRegistration) -> &'static str {
    match v {
        ClientRegistration::Off => msg("apps-registration-off"),
        ClientRegistration::Token => msg("apps-registration-token"),
        ClientRegistration::Open => msg("apps-registration-open"),
    }
}

/// A grant's name: the OAuth names stay as they are, the words explaining some are translated.
fn auth_method_label(l: Lang, m: AuthMethod) -> String {
    match m {
        AuthMethod::Password => l.t("apps-auth-method-password"),
        AuthMethod::DeviceCode => l.t("apps-auth-method-device-code"),
        other => other.label().to_string(),
    }
}

/// The key of a lifetime unit's name (the option's value stays the English unit).
fn unit_key(u: &str) -> &'static str {
    match u {
        "minutes" => msg("apps-unit-minutes"),
        "hours" => msg("apps-unit-hours"),
        "days" => msg("apps-unit-days"),
        _ => msg("apps-unit-seconds"),
    }
}

#[component]
pub fn AppsPage() -> impl IntoView {
    let l = use_lang();
    let query = use_query_map();
    let q = move || query.read().get("q").unwrap_or_default();
    let category = move || query.read().get("category").unwrap_or_default();
    let offset = move || {
        query
            .read()
            .get("offset")
            .and_then(|o| o.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0)
    };
    let apps = Resource::new(
        move || (q(), category(), offset()),
        |(q, c, o)| list_apps(q, c, o),
    );
    view! {
        <Title text=l.t("apps-title")/>
        <div class="page-head">
            <h1>{l.t("apps-title")}</h1>
            <a class="button primary" href="/admin/apps/new">{l.t("apps-add")}</a>
        </div>
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
            {move || Suspend::new(async move {
                match apps.await {
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(list) => {
                        let current = category();
                        let prev = (offset() > 0).then(|| page_link(&q(), &current, (offset() - APPS_PAGE).max(0)));
                        let next = (offset() + APPS_PAGE < list.total).then(|| page_link(&q(), &current, offset() + APPS_PAGE));
                        view! {
                            <Form method="GET" action="">
                                <div class="search">
                                    <label for="app-search">{l.t("apps-search")}</label>
                                    <input id="app-search" type="search" name="q" value=q()/>
                                    <label for="app-category">{l.t("apps-category")}</label>
                                    <select id="app-category" name="category">
                                        <option value="" selected=current.is_empty()>{l.t("apps-all-categories")}</option>
                                        {list.categories.iter().map(|c| view! {
                                            <option value=c.clone() selected=*c == current>{c.clone()}</option>
                                        }).collect_view()}
                                    </select>
                                    <button type="submit">{l.t("apps-filter")}</button>
                                </div>
                            </Form>
                            <table class="grid">
                                <thead><tr><th>{l.t("apps-name")}</th><th>{l.t("apps-application-id")}</th><th>{l.t("apps-category")}</th><th>{l.t("apps-token-type")}</th><th>{l.t("apps-auth-methods")}</th></tr></thead>
                                <tbody>
                                    {list.items.into_iter().map(|a| view! {
                                        <tr>
                                            <td><A href=format!("/admin/apps/{}", a.app_id)>{a.name}</A></td>
                                            <td><code>{a.app_id}</code></td>
                                            <td>{a.category}</td>
                                            <td>{a.token_type.label()}</td>
                                            <td>{a.auth_methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            <p class="pager">
                                {tr!(l, "apps-count", count = list.total)}
                                {prev.map(|h| view! { " " <a href=h>{l.t("apps-previous")}</a> })}
                                {next.map(|h| view! { " " <a href=h>{l.t("apps-next")}</a> })}
                            </p>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/admin/apps/new` and `/admin/apps/:app_id`.
#[component]
pub fn AppEditPage() -> impl IntoView {
    let l = use_lang();
    let params = use_params_map();
    let app_id = move || params.read().get("app_id").filter(|a| a != "new");
    let data = Resource::new(app_id, load_editor);
    // Every resource of the page is created here, never inside the editor's `Suspend` (see
    // `activity_resource`): the Activity panel's and the Changelog's, which follows saves.
    let saves = RwSignal::new(0usize);
    let sections = Sections {
        activity: super::activity::activity_resource(app_id, false),
        changelog: Resource::new(
            move || (app_id(), saves.get()),
            |(id, _)| async move {
                match id {
                    Some(id) => app_changelog(id).await,
                    None => Ok(Vec::new()),
                }
            },
        ),
        saves,
    };
    view! {
        <Title text=l.t("apps-app-title")/>
        <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(d) => view! { <AppEditor data=d sections/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The app page's resources below the form (created by the page, see `AppEditPage`), and the
/// count of saves the Changelog follows.
#[derive(Clone, Copy)]
struct Sections {
    activity: super::activity::ActivityData,
    changelog: Resource<Result<Vec<Change>, ServerFnError>>,
    saves: RwSignal<usize>,
}

/// Marks a field path as edited since the last save.
#[derive(Clone, Copy)]
struct Touch(Callback<String>);

#[derive(Clone, Copy)]
struct Row {
    key: u64,
    value: RwSignal<String>,
}

#[derive(Clone, Copy)]
struct ScopeRow {
    key: u64,
    name: RwSignal<String>,
    description: RwSignal<String>,
    regexes: RwSignal<Vec<Row>>,
}

/// Unique keys for rows added in place.
#[derive(Clone, Copy)]
struct Keys(StoredValue<u64>);

impl Keys {
    fn next(&self) -> u64 {
        self.0.update_value(|k| *k += 1);
        self.0.get_value()
    }
    fn row(&self, v: &str) -> Row {
        Row {
            key: self.next(),
            value: RwSignal::new(v.to_string()),
        }
    }
    fn scope(&self, s: &Scope) -> ScopeRow {
        ScopeRow {
            key: self.next(),
            name: RwSignal::new(s.name.clone()),
            description: RwSignal::new(s.description.clone()),
            regexes: RwSignal::new(s.rest_regexes.iter().map(|r| self.row(r)).collect()),
        }
    }
}

fn position(rows: RwSignal<Vec<Row>>, key: u64) -> usize {
    rows.with(|v| v.iter().position(|r| r.key == key).unwrap_or(0))
}

/// An editable list of URIs (Allow Redirects, Post-logout redirects): a row per URI with its
/// own error, a button to remove it and one to add a row.
#[component]
fn UriList(
    legend: String,
    field: &'static str,
    noun: String,
    add_label: String,
    id_prefix: &'static str,
    rows: RwSignal<Vec<Row>>,
    keys: Keys,
    add: FormOp,
    remove: fn(usize) -> FormOp,
    err: Callback<String, Option<String>>,
) -> impl IntoView {
    let l = use_lang();
    let touch = use_context::<Touch>();
    let noun = StoredValue::new(noun);
    view! {
        <fieldset>
            <legend>{legend}</legend>
            <For each=move || rows.get() key=|r| r.key let:row>
                {
                    let k = row.key;
                    let idx = move || position(rows, k);
                    let label = move || format!("{} {}", noun.get_value(), idx() + 1);
                    let id = format!("{id_prefix}-{k}");
                    let e = Signal::derive(move || err.run(format!("{field}[{}]", idx())));
                    view! {
                        <div class="row" on:input=move |_| { if let Some(t) = touch { t.0.run(format!("{field}[{}]", idx())) } }>
                            <label for=id.clone() class="sr-only">{label}</label>
                            <input id=id name=field value=row.value.get_untracked() bind:value=row.value aria-invalid=move || e.get().is_some().to_string()/>
                            <RowButton op=Signal::derive(move || remove(idx())) label=Signal::derive(move || tr!(l, "apps-remove-named", name = label()))
                                in_place=move || rows.update(|v| v.retain(|r| r.key != k))/>
                            <span class="field-error" role="alert">{move || e.get()}</span>
                        </div>
                    }
                }
            </For>
            <RowButton op=add label=add_label in_place=move || rows.update(|v| v.push(keys.row("")))/>
        </fieldset>
    }
}

/// A button that adds or removes a row: without JavaScript it posts the form with its
/// operation and the page comes back with the row changed and everything typed kept; with
/// JavaScript it runs `in_place` instead.
#[component]
fn RowButton(
    #[prop(into)] op: Signal<FormOp>,
    #[prop(into)] label: Signal<String>,
    in_place: impl Fn() + 'static,
) -> impl IntoView {
    view! {
        <button type="submit" name="op" value=move || op.get().value() formnovalidate=true
            on:click=move |ev| { ev.prevent_default(); in_place(); }>
            {move || label.get()}
        </button>
    }
}

#[component]
fn AppEditor(data: EditorData, sections: Sections) -> impl IntoView {
    let l = use_lang();
    let EditorData {
        form,
        outcome: first_outcome,
        roles: all_roles,
        public_url,
    } = data;
    let is_new = form.is_new;
    let a = form.app.clone();
    let keys = Keys(StoredValue::new(0));

    let app_id = RwSignal::new(a.app_id.clone());
    let name = RwSignal::new(a.name.clone());
    let description = RwSignal::new(a.description.clone());
    let category = RwSignal::new(a.category.clone());
    let client_id_type = RwSignal::new(a.client_id_type);
    let registration = RwSignal::new(a.client_registration);
    let documents = RwSignal::new(a.client_id_metadata_documents);
    let allowed = RwSignal::new(a.allowed_clients.join("\n"));
    let issuer = RwSignal::new(if a.issuer_is_default {
        String::new()
    } else {
        a.issuer.clone()
    });
    let redirects = RwSignal::new(
        a.redirect_uris
            .iter()
            .map(|u| keys.row(u))
            .collect::<Vec<_>>(),
    );
    let logout_redirects = RwSignal::new(
        a.post_logout_redirect_uris
            .iter()
            .map(|u| keys.row(u))
            .collect::<Vec<_>>(),
    );
    let resources = RwSignal::new(a.resources.iter().map(|u| keys.row(u)).collect::<Vec<_>>());
    let token_type = RwSignal::new(a.token_type);
    let methods = RwSignal::new(a.auth_methods.clone());
    let lifetime = RwSignal::new(form.token_lifetime.value.clone());
    let lifetime_unit = RwSignal::new(form.token_lifetime.unit.clone());
    let refresh = RwSignal::new(a.issue_refresh_tokens);
    let refresh_lifetime = RwSignal::new(form.refresh_lifetime.value.clone());
    let refresh_unit = RwSignal::new(form.refresh_lifetime.unit.clone());
    let must_confirm = RwSignal::new(a.user_must_confirm);
    let require_mfa = RwSignal::new(a.require_mfa);
    let require_par = RwSignal::new(a.require_par);
    let require_dpop = RwSignal::new(a.require_dpop);
    let scopes = RwSignal::new(a.scopes.iter().map(|s| keys.scope(s)).collect::<Vec<_>>());
    let roles = RwSignal::new(a.user_access_roles.clone());

    let save = ServerAction::<SaveApp>::new();
    // The Changelog follows each save.
    Effect::new(move |_| {
        if save.version().get() > 0 {
            sections.saves.update(|n| *n += 1);
        }
    });
    // Errors found before sending (lifetimes that are not numbers) use the same shape; the
    // first outcome is the one a plain form post came back with.
    let local_error = RwSignal::new(None::<FormResult>);
    let outcome = Signal::derive(move || match (local_error.get(), save.value().get()) {
        (Some(f), _) => Some(f),
        (None, Some(r)) => r.ok(),
        (None, None) => first_outcome.clone(),
    });
    // A field's server error disappears once the field is edited again.
    let cleared = RwSignal::new(Vec::<String>::new());
    let err = move |field: String| {
        if cleared.with(|c| c.contains(&field)) {
            return None;
        }
        outcome
            .get()
            .and_then(|f| f.error_for(&field))
            .map(|m| l.rule(&m))
    };
    let touch = move |field: String| cleared.update(|c| c.push(field));
    let err_cb = Callback::new(move |field: String| err(field));
    provide_context(Touch(Callback::new(move |f: String| touch(f))));
    // Set once this editor is live in the browser (tests wait for it before typing).
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(f)) = save.value().get() {
            if f.ok && is_new {
                if let Some(id) = f.id {
                    navigate(
                        &format!("/admin/apps/{id}?saved=created"),
                        Default::default(),
                    );
                }
            }
        }
    });

    // The form as it stands, in the same shape a plain post is parsed into.
    let current = move || AppForm {
        is_new,
        app: crate::api::apps::App {
            app_id: app_id.get_untracked(),
            name: name.get_untracked(),
            description: description.get_untracked(),
            category: category.get_untracked(),
            client_id_type: client_id_type.get_untracked(),
            client_registration: registration.get_untracked(),
            client_id_metadata_documents: documents.get_untracked(),
            allowed_clients: allowed
                .get_untracked()
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect(),
            issuer_is_default: issuer.get_untracked().trim().is_empty(),
            issuer: issuer.get_untracked(),
            redirect_uris: redirects
                .get_untracked()
                .iter()
                .map(|r| r.value.get_untracked())
                .collect(),
            post_logout_redirect_uris: logout_redirects
                .get_untracked()
                .iter()
                .map(|r| r.value.get_untracked())
                .collect(),
            resources: resources
                .get_untracked()
                .iter()
                .map(|r| r.value.get_untracked())
                .collect(),
            token_type: token_type.get_untracked(),
            auth_methods: methods.get_untracked(),
            token_lifetime_secs: 0,
            issue_refresh_tokens: refresh.get_untracked(),
            refresh_token_lifetime_secs: 0,
            user_must_confirm: must_confirm.get_untracked(),
            require_mfa: require_mfa.get_untracked(),
            require_par: require_par.get_untracked(),
            require_dpop: require_dpop.get_untracked(),
            scopes: scopes
                .get_untracked()
                .iter()
                .map(|s| Scope {
                    name: s.name.get_untracked(),
                    description: s.description.get_untracked(),
                    rest_regexes: s
                        .regexes
                        .get_untracked()
                        .iter()
                        .map(|r| r.value.get_untracked())
                        .collect(),
                })
                .collect(),
            user_access_roles: roles.get_untracked(),
            created_at: String::new(),
            updated_at: String::new(),
        },
        token_lifetime: Lifetime {
            value: lifetime.get_untracked(),
            unit: lifetime_unit.get_untracked(),
        },
        refresh_lifetime: Lifetime {
            value: refresh_lifetime.get_untracked(),
            unit: refresh_unit.get_untracked(),
        },
    };
    let on_save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        local_error.set(None);
        cleared.set(Vec::new());
        let form = current();
        // The same check the server runs on a plain post, before anything is sent.
        if let Err(f) = form.to_app(l) {
            local_error.set(Some(f));
            return;
        }
        save.dispatch(SaveApp { form });
    };

    let query = use_query_map();
    let saved = query.read_untracked().get("saved");
    let title = if is_new {
        l.t("apps-add")
    } else {
        a.name.clone()
    };
    let id_for_links = a.app_id.clone();
    let action = if is_new {
        "/admin/apps/new".to_string()
    } else {
        format!("/admin/apps/{}", a.app_id)
    };
    let effective_issuer = a.issuer.clone();

    view! {
            <div class="page-head">
                <h1>{title}</h1>
                <a href="/admin/apps">{l.t("apps-all")}</a>
            </div>
            {saved.map(|s| view! { <p class="status ok" role="status">{if s == "created" { l.t("apps-created") } else { l.t("saved") }}</p> })}
            <nav class="tabs" aria-label=l.t("apps-sections")>
                <a href="#description">{l.t("apps-description")}</a>
                <a href="#general-usage">{l.t("apps-general-usage")}</a>
                <a href="#tokens">{l.t("apps-tokens")}</a>
                <a href="#scope">{l.t("apps-scope")}</a>
                <a href="#user-access">{l.t("apps-user-access")}</a>
                {(!is_new).then(|| view! { <a href="#activity">{l.t("apps-activity")}</a><a href="#changelog">{l.t("apps-changelog")}</a> })}
            </nav>
            <form class="app-form" method="post" action=action on:submit=on_save novalidate data-ready=move || ready.get().to_string()>
                // Enter in a field saves: the first submit button of a form is its default.
                <button type="submit" name="op" value="save" class="sr-only" tabindex="-1" aria-hidden="true">{l.t("save")}</button>
                <input type="hidden" name="is_new" value=is_new.to_string()/>
                {view! {
                <section id="description" aria-labelledby="h-description">
                    <h2 id="h-description">{l.t("apps-description")}</h2>
                    <Field label=l.t("apps-application-id") id="app_id" error=Signal::derive(move || err("app_id".into()))>
                        <input id="app_id" name="app_id" value=app_id.get_untracked() bind:value=app_id readonly=!is_new aria-describedby="app_id-error" autocomplete="off"/>
                    </Field>
                    <Field label=l.t("apps-application-name") id="name" error=Signal::derive(move || err("name".into()))>
                        <input id="name" name="name" value=name.get_untracked() bind:value=name aria-describedby="name-error" autocomplete="off"/>
                    </Field>
                    <Field label=l.t("apps-description") id="description_text" path="description" error=Signal::derive(move || err("description".into()))>
                        <textarea id="description_text" name="description" aria-describedby="description_text-error" prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))>{description.get_untracked()}</textarea>
                    </Field>
                    <Field label=l.t("apps-category") id="category" error=Signal::derive(move || err("category".into()))>
                        <input id="category" name="category" value=category.get_untracked() bind:value=category aria-describedby="category-error" autocomplete="off"/>
                    </Field>
                </section>
                }.into_any()}

                {view! {
                <section id="general-usage" aria-labelledby="h-general">
                    <h2 id="h-general">{l.t("apps-general-usage")}</h2>
                    <fieldset>
                        <legend>{l.t("apps-client-id-type")}</legend>
                        {ClientIdType::ALL.into_iter().map(|v| view! {
                            <label class="choice">
                                <input type="radio" name="client_id_type" value=v.as_str()
                                    checked=client_id_type.get_untracked() == v
                                    prop:checked=move || client_id_type.get() == v
                                    on:change=move |_| client_id_type.set(v)/>
                                {l.t(client_id_type_key(v))}
                            </label>
                        }).collect_view()}
                    </fieldset>
                    // Shown for "List" only, but always in the form so a plain post keeps it.
                    <div hidden=move || client_id_type.get() != ClientIdType::List>
                        <Field label=l.t("apps-allowed-clients") id="allowed_clients" error=Signal::derive(move || outcome.get().and_then(|f| f.field.filter(|x| x.starts_with("allowed_clients")).map(|_| l.rule(&f.message))))>
                            <textarea id="allowed_clients" name="allowed_clients" prop:value=move || allowed.get() on:input=move |ev| allowed.set(event_target_value(&ev))>{allowed.get_untracked()}</textarea>
                        </Field>
                    </div>
                    // Shown for "Registered clients" only, but always in the form (as above).
                    <div hidden=move || client_id_type.get() != ClientIdType::Registered>
                        <fieldset>
                            <legend>{l.t("apps-client-registration")}</legend>
                            {ClientRegistration::ALL.into_iter().map(|v| view! {
                                <label class="choice">
                                    <input type="radio" name="client_registration" value=v.as_str()
                                        checked=registration.get_untracked() == v
                                        prop:checked=move || registration.get() == v
                                        on:change=move |_| registration.set(v)/>
                                    {l.t(registration_key(v))}
                                </label>
                            }).collect_view()}
                        </fieldset>
                        <p class="muted">{l.t("apps-registration-help-before")}" "<code>"/oauth2/register/{app}"</code>" "{l.t("apps-registration-help-after")}</p>
                        <label class="choice"><input type="checkbox" name="client_id_metadata_documents" value="on" aria-describedby="cimd-help" checked=documents.get_untracked() bind:checked=documents/>{l.t("apps-cimd")}</label>
                        <p class="muted" id="cimd-help">{l.t("apps-cimd-help")}</p>
                        <span class="field-error" role="alert">{move || err("client_id_metadata_documents".into())}</span>
                        {(!is_new).then(|| view! { <p><a href=format!("/admin/apps/{}/clients", id_for_links)>{l.t("apps-clients-link")}</a></p> })}
                        <span class="field-error" role="alert">{move || err("client_registration".into())}</span>
                    </div>
                    <Show when=move || client_id_type.get() == ClientIdType::Confidential>
                        <p>
                            {l.t("apps-confidential-help")}" "
                            <a href=format!("/admin/users/new?confidential=1&return_to=/admin/apps/{}", id_for_links)>{l.t("apps-create-confidential-user")}</a>
                        </p>
                    </Show>
                    <Field label=l.t("apps-issuer") id="issuer" error=Signal::derive(move || err("issuer".into()))>
                        <input id="issuer" name="issuer" value=issuer.get_untracked() bind:value=issuer placeholder=effective_issuer aria-describedby="issuer-error" autocomplete="off"/>
                    </Field>
    <UriList legend=l.t("apps-allow-redirects") field="redirect_uris" noun=l.t("apps-redirect-uri") add_label=l.t("apps-add-redirect-uri") id_prefix="redirect"
                        rows=redirects keys=keys add=FormOp::AddRedirect remove=FormOp::RemoveRedirect err=err_cb/>
                    <UriList legend=l.t("apps-post-logout-redirects") field="post_logout_redirect_uris" noun=l.t("apps-post-logout-redirect-uri") add_label=l.t("apps-add-post-logout-redirect-uri") id_prefix="logout-redirect"
                        rows=logout_redirects keys=keys add=FormOp::AddLogoutRedirect remove=FormOp::RemoveLogoutRedirect err=err_cb/>
                    <UriList legend=l.t("apps-resources") field="resources" noun=l.t("apps-resource") add_label=l.t("apps-add-resource") id_prefix="resource"
                        rows=resources keys=keys add=FormOp::AddResource remove=FormOp::RemoveResource err=err_cb/>
                    <p class="muted">{l.t("apps-resources-help-before")}" "<code>"resource"</code>" "{l.t("apps-resources-help-after")}</p>
                    {(!is_new).then(|| view! { <Endpoints public_url=public_url.clone() app_id=a.app_id.clone() scopes=a.scopes.iter().map(|s| s.name.clone()).collect()/> })}
                </section>
                }.into_any()}

                {view! {
                <section id="tokens" aria-labelledby="h-tokens">
                    <h2 id="h-tokens">{l.t("apps-tokens")}</h2>
                    <fieldset>
                        <legend>{l.t("apps-token-type")}</legend>
                        {TokenType::ALL.into_iter().map(|v| view! {
                            <label class="choice">
                                <input type="radio" name="token_type" value=v.as_str()
                                    checked=token_type.get_untracked() == v
                                    prop:checked=move || token_type.get() == v on:change=move |_| token_type.set(v)/>
                                {v.label()}
                            </label>
                        }).collect_view()}
                    </fieldset>
                    <fieldset>
                        <legend>{l.t("apps-auth-methods")}</legend>
                        {AuthMethod::ALL.into_iter().map(|v| view! {
                            <label class="choice">
                                <input type="checkbox" name="auth_methods" value=v.as_str()
                                    checked=methods.with_untracked(|m| m.contains(&v))
                                    prop:checked=move || methods.with(|m| m.contains(&v))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        methods.update(|m| { m.retain(|x| *x != v); if on { m.push(v); } });
                                    }/>
                                {auth_method_label(l, v)}
                            </label>
                        }).collect_view()}
                        <p class="field-error" role="alert">{move || outcome.get().and_then(|f| f.field.filter(|x| x.starts_with("auth_methods")).map(|_| l.rule(&f.message)))}</p>
                    </fieldset>
                    <LifetimeField label=l.t("apps-token-lifetime") id="token_lifetime" value=lifetime unit=lifetime_unit error=Signal::derive(move || err("token_lifetime_secs".into()))/>
                    <label class="choice"><input type="checkbox" name="require_dpop" value="on" aria-describedby="require-dpop-help" checked=require_dpop.get_untracked() bind:checked=require_dpop/>{l.t("apps-require-dpop")}</label>
                    <p class="muted" id="require-dpop-help">{l.t("apps-require-dpop-help")}</p>
                    <label class="choice"><input type="checkbox" name="issue_refresh_tokens" value="on" checked=refresh.get_untracked() bind:checked=refresh/>{l.t("apps-issue-refresh-tokens")}</label>
                    // Shown while refresh tokens are on; otherwise carried along so a plain post
                    // keeps it.
                    <Show when=move || refresh.get() fallback=move || view! {
                        <input type="hidden" name="refresh_lifetime" value=move || refresh_lifetime.get()/>
                        <input type="hidden" name="refresh_lifetime_unit" value=move || refresh_unit.get()/>
                    }>
                        <LifetimeField label=l.t("apps-refresh-token-lifetime") id="refresh_lifetime" value=refresh_lifetime unit=refresh_unit error=Signal::derive(move || err("refresh_token_lifetime_secs".into()))/>
                    </Show>
                </section>
                }.into_any()}

                {view! {
                <section id="scope" aria-labelledby="h-scope">
                    <h2 id="h-scope">{l.t("apps-scope")}</h2>
                    <label class="choice"><input type="checkbox" name="user_must_confirm" value="on" checked=must_confirm.get_untracked() bind:checked=must_confirm/>{l.t("apps-user-must-confirm")}</label>
                    <label class="choice"><input type="checkbox" name="require_mfa" value="on" aria-describedby="require-mfa-help" checked=require_mfa.get_untracked() bind:checked=require_mfa/>{l.t("apps-require-mfa")}</label>
                    <p class="muted" id="require-mfa-help">{l.t("apps-require-mfa-help")}</p>
                    <label class="choice"><input type="checkbox" name="require_par" value="on" aria-describedby="require-par-help" checked=require_par.get_untracked() bind:checked=require_par/>{l.t("apps-require-par")}</label>
                    <p class="muted" id="require-par-help">{l.t("apps-require-par-help")}</p>
                    <h3>{l.t("apps-scope-definitions")}</h3>
                    <For each=move || scopes.get() key=|s| s.key let:scope>
                        {
                            let k = scope.key;
                            let idx = move || scopes.with(|v| v.iter().position(|s| s.key == k).unwrap_or(0));
                            let legend = move || tr!(l, "apps-scope-numbered", n = idx() + 1);
                            let name_id = format!("scope-{k}-name");
                            let desc_id = format!("scope-{k}-description");
                            let name_err = Signal::derive(move || err(format!("scopes[{}].name", idx())));
                            let regexes = scope.regexes;
                            view! {
                                <fieldset class="scope" aria-label=legend>
                                    <legend>{legend}</legend>
                                    <div class="field" class:has-error=move || name_err.get().is_some() on:input=move |_| touch(format!("scopes[{}].name", idx()))>
                                        <label for=name_id.clone()>{l.t("apps-name")}</label>
                                        <input id=name_id name=move || format!("scopes[{}].name", idx()) value=scope.name.get_untracked() bind:value=scope.name autocomplete="off"/>
                                        <p class="field-error" role="alert">{move || name_err.get()}</p>
                                    </div>
                                    <div class="field">
                                        <label for=desc_id.clone()>{l.t("apps-description")}</label>
                                        <input id=desc_id name=move || format!("scopes[{}].description", idx()) value=scope.description.get_untracked() bind:value=scope.description autocomplete="off"/>
                                    </div>
                                    <For each=move || regexes.get() key=|r| r.key let:re>
                                        {
                                            let rk = re.key;
                                            let j = move || position(regexes, rk);
                                            let label = move || tr!(l, "apps-rest-regex-numbered", n = j() + 1);
                                            let id = format!("regex-{rk}");
                                            // Checked as it is typed with the server's own rule, and again on save.
                                            let e = Signal::derive(move || {
                                                let v = re.value.get();
                                                RestRegex::parse(v.trim()).err().map(|e| l.rule(&e.message))
                                                    .or_else(|| err(format!("scopes[{}].rest_regexes[{}]", idx(), j())))
                                            });
                                            let typed = RwSignal::new(!re.value.get_untracked().is_empty());
                                            view! {
                                                <div class="row" on:input=move |_| touch(format!("scopes[{}].rest_regexes[{}]", idx(), j()))>
                                                    <label for=id.clone()>{label}</label>
                                                    <input id=id name=move || format!("scopes[{}].rest_regexes", idx()) value=re.value.get_untracked() bind:value=re.value on:input=move |_| typed.set(true) autocomplete="off"
                                                        aria-invalid=move || (typed.get() && e.get().is_some()).to_string()/>
                                                    <RowButton op=Signal::derive(move || FormOp::RemoveRegex(idx(), j())) label=Signal::derive(move || tr!(l, "apps-remove-named", name = label()))
                                                        in_place=move || regexes.update(|v| v.retain(|r| r.key != rk))/>
                                                    <span class="field-error" role="alert">{move || if typed.get() || outcome.get().is_some() { e.get() } else { None }}</span>
                                                </div>
                                            }
                                        }
                                    </For>
                                    <RowButton op=Signal::derive(move || FormOp::AddRegex(idx())) label=l.t("apps-add-rest-regex") in_place=move || regexes.update(|v| v.push(keys.row("")))/>
                                    " "
                                    <RowButton op=Signal::derive(move || FormOp::RemoveScope(idx())) label=Signal::derive(move || tr!(l, "apps-remove-named", name = legend()))
                                        in_place=move || scopes.update(|v| v.retain(|s| s.key != k))/>
                                </fieldset>
                            }
                        }
                    </For>
                    <RowButton op=FormOp::AddScope label=l.t("apps-add-scope") in_place=move || scopes.update(|v| v.push(keys.scope(&Scope {
                        name: String::new(),
                        description: String::new(),
                        rest_regexes: vec![String::new()],
                    })))/>
                    <p class="field-error" role="alert">{move || outcome.get().and_then(|f| (f.field.as_deref() == Some("scopes")).then(|| l.rule(&f.message)))}</p>
                </section>
                }.into_any()}

                {view! {
                <section id="user-access" aria-labelledby="h-access">
                    <h2 id="h-access">{l.t("apps-user-access")}</h2>
                    <fieldset>
                        <legend>{l.t("apps-roles-legend")}</legend>
                        {all_roles.into_iter().map(|r| {
                            let r2 = r.clone();
                            let r3 = r.clone();
                            let on = roles.with_untracked(|v| v.contains(&r));
                            view! {
                                <label class="choice">
                                    <input type="checkbox" name="user_access_roles" value=r.clone() checked=on
                                        prop:checked=move || roles.with(|v| v.iter().any(|x| x == &r2))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            let r = r3.clone();
                                            roles.update(|v| { v.retain(|x| x != &r); if on { v.push(r); } });
                                        }/>
                                    {r}
                                </label>
                            }
                        }).collect_view()}
                        <p class="field-error" role="alert">{move || outcome.get().and_then(|f| f.field.filter(|x| x.starts_with("user_access_roles")).map(|_| l.rule(&f.message)))}</p>
                    </fieldset>
                </section>
                }.into_any()}

                <div class="actions sticky">
                    <button type="submit" name="op" value="save" class="primary" disabled=move || save.pending().get()>{l.t("save")}</button>
                    {move || outcome.get().map(|f| {
                        if f.ok {
                            view! { <p class="status ok" role="status">{f.message}</p> }.into_any()
                        } else {
                            view! { <p class="status error" role="alert">{if f.field.is_some() { l.t("form-correct-errors") } else { l.rule(&f.message) }}</p> }.into_any()
                        }
                    })}
                    {move || save.value().get().and_then(|r| r.err()).map(|e| view! { <p class="status error" role="alert">{error_text(&e)}</p> })}
                </div>
            </form>
            {(!is_new).then(|| view! {
                <super::activity::ActivityPanel activity=sections.activity/>
                <Changelog log=sections.changelog/>
                <DeleteAppSection app_id=a.app_id.clone()/>
            })}
        }
}

/// A labelled field with its error below it.
#[component]
fn Field(
    #[prop(into)] label: String,
    id: &'static str,
    #[prop(optional)] path: Option<&'static str>,
    error: Signal<Option<String>>,
    children: Children,
) -> impl IntoView {
    let touch = use_context::<Touch>();
    let path = path.unwrap_or(id);
    view! {
        <div class="field" class:has-error=move || error.get().is_some() on:input=move |_| if let Some(t) = touch { t.0.run(path.to_string()) }>
            <label for=id>{label}</label>
            {children()}
            <p class="field-error" id=format!("{id}-error") role="alert">{move || error.get()}</p>
        </div>
    }
}

/// A lifetime as a number and a unit.
#[component]
fn LifetimeField(
    #[prop(into)] label: String,
    id: &'static str,
    value: RwSignal<String>,
    unit: RwSignal<String>,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let l = use_lang();
    let unit_id = format!("{id}_unit");
    let unit_label = tr!(l, "apps-lifetime-unit", label = &label);
    view! {
        <div class="field" class:has-error=move || error.get().is_some()>
            <label for=id>{label}</label>
            <div class="row">
                <input id=id name=id type="number" min="1" value=value.get_untracked() bind:value=value aria-describedby=format!("{id}-error")/>
                <label for=unit_id.clone() class="sr-only">{unit_label}</label>
                <select id=unit_id.clone() name=unit_id prop:value=move || unit.get() on:change=move |ev| unit.set(event_target_value(&ev))>
                    {UNITS.iter().map(|(u, _)| view! { <option value=*u selected=move || unit.get() == *u>{l.t(unit_key(u))}</option> }).collect_view()}
                </select>
            </div>
            <p class="field-error" id=format!("{id}-error") role="alert">{move || error.get()}</p>
        </div>
    }
}

/// The app's endpoint URLs and a ready-to-copy client-credentials request.
#[component]
fn Endpoints(public_url: String, app_id: String, scopes: Vec<String>) -> impl IntoView {
    let l = use_lang();
    let u = |p: &str| format!("{public_url}/oauth2/{p}/{app_id}");
    let token = u("token");
    let scope_arg = if scopes.is_empty() {
        String::new()
    } else {
        format!(" \\\n  -d 'scope={}'", scopes.join(" "))
    };
    let curl = format!(
        "curl -X POST '{token}' \\\n  -u 'CLIENT_ID:CLIENT_SECRET' \\\n  -H 'Content-Type: application/x-www-form-urlencoded' \\\n  -d 'grant_type=client_credentials'{scope_arg}"
    );
    view! {
        <h3>{l.t("apps-endpoints")}</h3>
        <dl class="endpoints">
            <dt>{l.t("apps-endpoint-token")}</dt><dd><code>{token.clone()}</code></dd>
            <dt>{l.t("apps-endpoint-authorize")}</dt><dd><code>{u("authorize")}</code></dd>
            <dt>{l.t("apps-endpoint-introspect")}</dt><dd><code>{u("introspect")}</code></dd>
            <dt>{l.t("apps-endpoint-revoke")}</dt><dd><code>{u("revoke")}</code></dd>
            <dt>{l.t("apps-endpoint-keys")}</dt><dd><code>{u("keys")}</code></dd>
            <dt>{l.t("apps-endpoint-metadata")}</dt><dd><code>{format!("{public_url}/oauth2/{app_id}/.well-known/oauth-authorization-server")}</code></dd>
        </dl>
        <h3 id="h-curl">{l.t("apps-curl-title")}</h3>
        <figure class="example" aria-labelledby="h-curl"><pre><code>{curl}</code></pre></figure>
    }
}

#[component]
fn Changelog(log: Resource<Result<Vec<Change>, ServerFnError>>) -> impl IntoView {
    let l = use_lang();
    view! {
        <section id="changelog" aria-labelledby="h-changelog">
            <h2 id="h-changelog">{l.t("apps-changelog")}</h2>
            <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Err(e) => view! { <p class="status error">{error_text(&e)}</p> }.into_any(),
                        Ok(items) => view! {
                            <table class="grid">
                                <thead><tr><th>{l.t("apps-changelog-when")}</th><th>{l.t("apps-changelog-who")}</th><th>{l.t("apps-changelog-field")}</th><th>{l.t("apps-changelog-old")}</th><th>{l.t("apps-changelog-new")}</th></tr></thead>
                                <tbody>
                                    {items.into_iter().map(|c| view! {
                                        <tr><td>{l.rfc3339(&c.at)}</td><td>{c.actor}</td><td>{c.field}</td><td>{c.old.unwrap_or_default()}</td><td>{c.new.unwrap_or_default()}</td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn DeleteAppSection(app_id: String) -> impl IntoView {
    let l = use_lang();
    let delete = ServerAction::<DeleteApp>::new();
    view! {
        <section class="danger" aria-labelledby="h-delete-app">
            <h2 id="h-delete-app">{l.t("apps-delete")}</h2>
            <p>{l.t("apps-delete-help")}</p>
            <ActionForm action=delete>
                <input type="hidden" name="app_id" value=app_id/>
                <button type="submit" class="danger">{l.t("apps-delete")}</button>
            </ActionForm>
            {move || delete.value().get().and_then(|r| r.ok()).filter(|f| !f.ok).map(|f| view! { <p class="status error" role="alert">{l.rule(&f.message)}</p> })}
        </section>
    }
}
