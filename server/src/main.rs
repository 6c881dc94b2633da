//! `gatehouse`: parse the settings, start, serve.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Freed memory goes back to the system after 10 ms idle instead of mimalloc 3's 1 s: under
    // load the resident size stays near what is live. `mi_option_purge_delay` (15 in mimalloc.h,
    // not exported by the -sys crate) is changed only while it holds its 1000 ms default, so a
    // MIMALLOC_PURGE_DELAY setting wins and a different option layout changes nothing.
    const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: reads and sets one of mimalloc's runtime options; both may be called at any time.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == 1000 {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10);
        }
    }
    let cli = gatehouse::cli::Cli::parse();
    let config = cli.config;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,tower_sessions=warn".into());
    // An admin command's standard output is its result (an export is JSON): logs go to stderr.
    let serving = matches!(cli.command, None | Some(gatehouse::cli::Command::Serve));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(move || -> Box<dyn std::io::Write> {
            if serving {
                Box::new(std::io::stdout())
            } else {
                Box::new(std::io::stderr())
            }
        });
    match config.log_format {
        // One object per line; the request span (with its id) on every line of the request.
        gatehouse::config::LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        gatehouse::config::LogFormat::Text => logs.init(),
    }
    match cli.command {
        None | Some(gatehouse::cli::Command::Serve) => {}
        Some(command) => return gatehouse::cli::run(config, command).await,
    }
    gatehouse::serve::raise_open_file_limit();
    let prepared = match gatehouse::prepare(config).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gatehouse: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(addr = %prepared.addr, public_url = %prepared.public_url, "Gatehouse listening");
    if let Err(e) = gatehouse::serve(prepared).await {
        eprintln!("gatehouse: server error: {e}");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
