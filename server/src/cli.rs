//! The admin command line beside the server (SPEC §7a): `gatehouse serve` (the default),
//! `export`, `import`, `users reset-password`, `users create-admin`, `keys rotate`, `migrate`, `purge`. Each opens the
//! database the server would (running its migrations), acts as the system, and exits with
//! 0 on success, 1 when the database or a file failed, 3 when the input was refused (a
//! document that breaks a rule, an unknown login name). clap answers bad usage with 2.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use domain::{DomainError, Principal, Services};

use crate::Config;

#[derive(Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Self-hosted OAuth2 authorization server and OpenID Provider with its own admin portal",
    args_conflicts_with_subcommands = false
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the portal, the OAuth2 endpoints and the admin API (the default).
    Serve,
    /// Write every app, role and user as one JSON document on standard output.
    Export {
        /// Include the users' password hashes (keep such a file secret).
        #[arg(long)]
        with_secrets: bool,
        /// Write the document's JSON Schema instead.
        #[arg(long)]
        schema: bool,
    },
    /// Apply a document written by `export`: create or update by app id, role name and login
    /// name. On an empty database the migrations run first.
    Import {
        /// The document ("-" reads standard input).
        file: PathBuf,
        /// Print the plan without changing anything.
        #[arg(long)]
        dry_run: bool,
        /// Delete apps, roles and users the document does not name.
        #[arg(long)]
        prune: bool,
    },
    /// Users of the directory.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Delete expired tokens, codes and other rows now, then exit.
    Purge,
}

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Give a user a new password, enable them and lift the sign-in throttle (for a locked-out
    /// administrator). Prints the generated password unless --password-stdin gives one.
    ResetPassword {
        /// The login name.
        login: String,
        /// Read the new password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Make a person a System Administrator (created when missing, else enabled with a new
    /// password): how an imported installation gets its first administrator.
    CreateAdmin {
        /// The login name.
        login: String,
        /// Read the password from the first line of standard input (else one is generated
        /// and printed once).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Retire the active signing keys and make new ones; the old stay published until every
    /// token they signed has expired. Running instances pick the new keys up within a minute.
    Rotate,
}

/// Why a command failed, and its exit code.
pub struct Failure {
    message: String,
    code: u8,
}

impl From<DomainError> for Failure {
    fn from(e: DomainError) -> Self {
        let code = match e {
            DomainError::Internal(_) => 1,
            _ => 3,
        };
        Failure {
            message: e.to_string(),
            code,
        }
    }
}

fn failed(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code: 1,
    }
}

/// Runs an admin command; `serve` is not one (main serves).
pub async fn run(config: Config, command: Command) -> ExitCode {
    match execute(config, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("gatehouse: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

async fn services(config: &Config) -> Result<Services, Failure> {
    let store = domain::Store::open(&config.database_url)
        .await
        .map_err(|e| failed(format!("database: {e}")))?;
    let secrets = config
        .secrets()
        .and_then(|s| domain::secrets::SecretBox::new(&s))
        .map_err(failed)?;
    let public_url = config.checked_public_url(config.bind).map_err(failed)?;
    let services = Services::new(store, &public_url, secrets);
    services.ensure_builtin_roles().await?;
    Ok(services)
}

fn print_json(v: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(v).map_err(|e| failed(e.to_string()))?;
    println!("{text}");
    Ok(())
}

async fn execute(config: Config, command: Command) -> Result<(), Failure> {
    let system = Principal::system();
    match command {
        Command::Serve => Err(failed("serve is not an admin command")),
        Command::Export { schema: true, .. } => print_json(&crate::api::openapi::config_schema()),
        Command::Export { with_secrets, .. } => {
            let s = services(&config).await?;
            print_json(&s.export_config(&system, with_secrets).await?)
        }
        Command::Import {
            file,
            dry_run,
            prune,
        } => {
            let text = if file.as_os_str() == "-" {
                let mut t = String::new();
                std::io::stdin()
                    .read_to_string(&mut t)
                    .map_err(|e| failed(format!("standard input: {e}")))?;
                t
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| failed(format!("{}: {e}", file.display())))?
            };
            let doc: domain::config_doc::ConfigDocument =
                serde_json::from_str(&text).map_err(|e| Failure {
                    message: format!(
                        "{}: not a Gatehouse configuration document: {e}",
                        file.display()
                    ),
                    code: 3,
                })?;
            let s = services(&config).await?;
            let plan = s.import_config(&system, doc, dry_run, prune).await?;
            for step in &plan.steps {
                println!("{} {} {}", step.action, step.kind, step.key);
            }
            println!(
                "{} change(s){}, {} unchanged",
                plan.steps.len(),
                if dry_run {
                    " planned (dry run)"
                } else {
                    " applied"
                },
                plan.unchanged
            );
            Ok(())
        }
        Command::Users {
            command:
                UsersCommand::ResetPassword {
                    login,
                    password_stdin,
                },
        } => {
            let (password, generated) = password_from(password_stdin)?;
            let s = services(&config).await?;
            s.reset_password(&login, &password).await?;
            if generated {
                println!("New password of {login}: {password}");
            } else {
                println!("The password of {login} was changed.");
            }
            Ok(())
        }
        Command::Users {
            command:
                UsersCommand::CreateAdmin {
                    login,
                    password_stdin,
                },
        } => {
            let (password, generated) = password_from(password_stdin)?;
            let s = services(&config).await?;
            s.create_admin(&login, &password).await?;
            if generated {
                println!("{login} is a System Administrator; password: {password}");
            } else {
                println!("{login} is a System Administrator.");
            }
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let s = services(&config).await?;
            s.ensure_signing_key().await?;
            let kid = s.rotate_keys(&system).await?;
            println!("Rotated the signing keys; the new RS256 key is {kid}");
            Ok(())
        }
        Command::Migrate => {
            services(&config).await?;
            println!("The database schema is up to date.");
            Ok(())
        }
        Command::Purge => {
            let s = services(&config).await?;
            let mut total = 0;
            loop {
                let r = s.purge_expired(200).await?;
                total += r.total();
                if !r.more_left {
                    break;
                }
            }
            println!("Deleted {total} expired row(s).");
            Ok(())
        }
    }
}

/// A password from the first line of standard input, or a generated one (true).
fn password_from(stdin: bool) -> Result<(String, bool), Failure> {
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| failed(format!("standard input: {e}")))?;
        Ok((line.trim_end_matches(['\r', '\n']).to_string(), false))
    } else {
        Ok((domain::tokens::random_token(18), true))
    }
}
