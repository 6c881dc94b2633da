//! `gatehouse`: parse the settings, start, serve.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
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
