//! The activity dashboard: tokens issued and refused (by grant type and by error) and sign-ins
//! over the last hour, day or 30 days, as server-rendered SVG bar charts that need no
//! JavaScript, each with its numbers as a table.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::operations::{load_activity, Activity, Window};
use crate::components::error_text;
use crate::i18n::{tr, use_lang, Lang};
use model::i18n::{civil_from_days, msg};

/// Bar colours, one per series (a colour-blind-safe palette).
const PALETTE: [&str; 8] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000",
];
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 140.0;

/// What an activity panel shows: everything (`whole`, with sign-ins) or the app `app()` names
/// (nothing is loaded while it names none). The window comes from the page's `window` query
/// parameter (`hour`, `day`, `30d`). Created by the page itself, never inside a `Suspend`: a
/// resource created there gets its hydration id when the server happens to resolve it, and the
/// browser may then read another resource's data (a flaky hydration error).
pub fn activity_resource(
    app: impl Fn() -> Option<String> + Send + Sync + 'static,
    whole: bool,
) -> ActivityData {
    let l = use_lang();
    let query = use_query_map();
    let window = Memo::new(move |_| {
        query
            .read()
            .get("window")
            .and_then(|w| Window::parse(&w))
            .unwrap_or(Window::Hour)
    });
    let data = Resource::new(
        move || (app(), window.get()),
        move |(app, w)| async move {
            if app.is_none() && !whole {
                return Err(ServerFnError::new(l.t("activity-no-app")));
            }
            load_activity(app, w.as_str().to_string()).await
        },
    );
    ActivityData {
        data,
        window,
        whole,
    }
}

#[derive(Clone, Copy)]
pub struct ActivityData {
    data: Resource<Result<Activity, ServerFnError>>,
    window: Memo<Window>,
    /// Everything (with sign-ins), not one app.
    whole: bool,
}

/// The charts `activity_resource` loaded.
#[component]
pub fn ActivityPanel(activity: ActivityData) -> impl IntoView {
    let ActivityData {
        data,
        window,
        whole,
    } = activity;
    let l = use_lang();
    view! {
        <section id="activity" aria-labelledby="h-activity" class="activity">
            <h2 id="h-activity">{l.t("activity-title")}</h2>
            <nav class="tabs" aria-label=l.t("activity-time-window")>
                {Window::ALL.into_iter().map(|w| {
                    let current = move || window.get() == w;
                    view! {
                        <a href=format!("?window={}#activity", w.as_str())
                            aria-current=move || if current() { "page" } else { "false" }>{l.t(window_key(w))}</a>
                    }
                }).collect_view()}
            </nav>
            <Suspense fallback=move || view! { <p>{l.t("loading")}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(a) => view! {
                            <Chart activity=a.clone() kind="issued" title=l.t("activity-tokens-issued") by=l.t("activity-grant-type")/>
                            <Chart activity=a.clone() kind="refused" title=l.t("activity-tokens-refused") by=l.t("activity-error")/>
                            {whole.then(|| view! { <Chart activity=a kind="sign_in" title=l.t("activity-sign-ins") by=l.t("activity-outcome")/> })}
                        }.into_any(),
                        Err(e) => view! { <p class="status error" role="alert">{error_text(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The message key of a window's tab ("Last hour").
fn window_key(w: Window) -> &'static str {
    match w {
        Window::Hour => msg("activity-window-hour"),
        Window::Day => msg("activity-window-day"),
        Window::Month => msg("activity-window-month"),
    }
}

/// The message key of a window as a caption names it ("last hour").
fn window_caption_key(w: Window) -> &'static str {
    match w {
        Window::Hour => msg("activity-window-hour-lower"),
        Window::Day => msg("activity-window-day-lower"),
        Window::Month => msg("activity-window-month-lower"),
    }
}

/// When a bucket starts, as the window shows it (UTC): minutes, hours or days (a day in the
/// language's date style).
fn bucket_label(l: Lang, window: Window, start: i64) -> String {
    let day = start.div_euclid(86_400);
    let secs = start.rem_euclid(86_400);
    match window {
        Window::Month => l.date(civil_from_days(day)),
        _ => format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60),
    }
}

/// A stacked bar chart of one kind's series, with a legend of totals and the numbers per bucket.
#[component]
fn Chart(activity: Activity, kind: &'static str, title: String, by: String) -> impl IntoView {
    let l = use_lang();
    let series: Vec<_> = activity
        .series
        .iter()
        .filter(|s| s.kind == kind)
        .cloned()
        .collect();
    let totals = activity.per_bucket(kind);
    let total: i64 = totals.iter().sum();
    let max = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = activity.starts.len().max(1);
    let slot = WIDTH / n as f64;
    let bar = (slot * 0.8).max(1.0);
    let id = format!("chart-{kind}");
    let caption = tr!(
        l,
        "activity-caption",
        what = title.clone(),
        when = l.t(window_caption_key(activity.window)),
        total = total
    );
    let mut rects = Vec::new();
    for (i, start) in activity.starts.iter().enumerate() {
        let mut y = HEIGHT;
        for (k, s) in series.iter().enumerate() {
            let c = s.counts.get(i).copied().unwrap_or(0);
            if c == 0 {
                continue;
            }
            let h = c as f64 / max * HEIGHT;
            y -= h;
            rects.push(view! {
                <rect x=format!("{:.1}", i as f64 * slot) y=format!("{y:.1}") width=format!("{bar:.1}")
                    height=format!("{h:.1}") fill=PALETTE[k % PALETTE.len()]>
                    <title>{format!("{} {}: {}", bucket_label(l, activity.window, *start), s.detail, l.number(c))}</title>
                </rect>
            });
        }
    }
    let first = activity
        .starts
        .first()
        .map(|s| bucket_label(l, activity.window, *s))
        .unwrap_or_default();
    let last = activity
        .starts
        .last()
        .map(|s| bucket_label(l, activity.window, *s))
        .unwrap_or_default();
    let rows: Vec<_> = activity
        .starts
        .iter()
        .enumerate()
        .filter(|(i, _)| totals.get(*i).copied().unwrap_or(0) > 0)
        .map(|(i, start)| {
            let cells: Vec<_> = series
                .iter()
                .map(|s| view! { <td>{l.number(s.counts.get(i).copied().unwrap_or(0))}</td> })
                .collect();
            view! { <tr><th scope="row">{bucket_label(l, activity.window, *start)}</th>{cells}<td>{l.number(totals[i])}</td></tr> }
        })
        .collect();
    let heads: Vec<_> = series
        .iter()
        .map(|s| view! { <th scope="col">{s.detail.clone()}</th> })
        .collect();
    let legend: Vec<_> = series
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let sum: i64 = s.counts.iter().sum();
            view! {
                <tr>
                    <td><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill=PALETTE[k % PALETTE.len()]/></svg>" "{s.detail.clone()}</td>
                    <td>{l.number(sum)}</td>
                </tr>
            }
        })
        .collect();
    let empty = series.is_empty();
    view! {
        <figure class="chart" id=id.clone() data-total=total.to_string()>
            <figcaption>{caption.clone()}</figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {}", HEIGHT + 1.0) role="img" aria-label=caption preserveAspectRatio="none" class="bars">
                <line x1="0" y1=HEIGHT.to_string() x2=WIDTH.to_string() y2=HEIGHT.to_string() stroke="#888"/>
                {rects}
            </svg>
            <p class="axis"><span>{first}</span><span>{last}</span></p>
            {if empty {
                view! { <p class="muted">{l.t("activity-nothing")}</p> }.into_any()
            } else {
                view! {
                    <table class="legend">
                        <thead><tr><th scope="col">{by}</th><th scope="col">{l.t("activity-count")}</th></tr></thead>
                        <tbody>{legend}</tbody>
                    </table>
                    <details>
                        <summary>{tr!(l, "activity-the-numbers", what = title)}</summary>
                        <table class="grid">
                            <thead><tr><th scope="col">{l.t("activity-from-utc")}</th>{heads}<th scope="col">{l.t("activity-total")}</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </details>
                }.into_any()
            }}
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_labelled_in_utc() {
        assert_eq!(bucket_label(Lang::En, Window::Hour, 1_767_225_660), "00:01");
        assert_eq!(bucket_label(Lang::De, Window::Hour, 1_767_225_660), "00:01");
        assert_eq!(
            bucket_label(Lang::En, Window::Month, 1_767_225_600),
            "Jan 1, 2026"
        );
        assert_eq!(
            bucket_label(Lang::De, Window::Month, 1_767_225_600),
            "1.1.2026"
        );
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
