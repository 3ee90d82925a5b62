//! `backend`: serve the API or run a maintenance task.

use std::process::ExitCode;

use backend::config::Config;
use backend::db::Db;
use backend::{Application, commands, telemetry};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "backend",
    version,
    about = "Children of the Singularity backend"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (default). Applies pending migrations first.
    Serve,
    /// Apply pending migrations, or revert with --down.
    Migrate {
        /// Revert instead of apply.
        #[arg(long)]
        down: bool,
        /// With --down: revert every migration newer than this version
        /// (default: only the newest one; 0 reverts everything).
        #[arg(long, requires = "down")]
        to: Option<i64>,
    },
    /// Check the database for inconsistencies; exits non-zero if any.
    Audit,
    /// Validate the configuration (environment and .env); exits non-zero
    /// with the list of problems.
    CheckConfig,
    /// Container health probe: exits 0 when this container's server
    /// answers /ready and the database answers with every migration
    /// applied, 1 otherwise.
    Healthcheck {
        /// Check only the database (no server running here).
        #[arg(long)]
        database_only: bool,
    },
    /// Moderation by the operator (admin powers, recorded in the audit log
    /// as `operator:$USER`).
    Admin {
        #[command(subcommand)]
        action: commands::AdminAction,
    },
    /// Create demo pilots (demo_zone2..4) with credits, upgrades and zone
    /// clearance for zones 2-4. Refused when APP_ENV=production.
    SeedDemo {
        /// Their password (12+ characters).
        #[arg(long, default_value = "salvage-demo-flight")]
        password: String,
    },
    /// Print mail stored by the development mailer (no SMTP configured).
    Outbox {
        /// Only mail to this address.
        #[arg(long)]
        to: Option<String>,
        /// How many, newest first.
        #[arg(long, default_value_t = 5)]
        limit: i64,
    },
}

/// Keeps freed argon2 buffers from staying in the process for good.
///
/// Every password hash allocates 19 MiB. glibc serves a block that large
/// with mmap, but after the first one is freed it raises its mmap threshold
/// to that size (up to 32 MiB), so later hashes come from the per-thread
/// malloc arenas of the blocking pool and stay resident: `make bench` saw
/// 1.2 GB of RSS after a few hundred logins, 20 MB with a fixed threshold.
/// A fixed threshold also turns the dynamic adjustment off.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_os() {
    // SAFETY: mallopt only changes allocator tuning; called once, before
    // any thread is started.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_os() {}

fn main() -> ExitCode {
    return_large_blocks_to_the_os();
    let cli = Cli::parse();
    // A missing .env is fine; a malformed one is worth saying.
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("error: .env: {error}");
        return ExitCode::FAILURE;
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprint!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::CheckConfig = command {
        for warning in commands::check_config(&config) {
            println!("warning: {warning}");
        }
        println!("configuration OK: {}", config.summary());
        return ExitCode::SUCCESS;
    }
    if !matches!(command, Command::Healthcheck { .. }) {
        telemetry::init(config.log_format);
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(command, config)) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "fatal");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve | Command::CheckConfig => {
            for warning in config.warnings() {
                tracing::warn!("{warning}");
            }
            tracing::info!(config = %config.summary(), "starting");
            let app = Application::build(config).await?;
            app.run_until_stopped().await?;
        }
        Command::Migrate { down, to } => {
            let db = Db::connect(&config.database).await?;
            if down {
                let applied = db.applied_migrations().await?;
                let target = match to {
                    Some(target) => target,
                    None => applied.iter().rev().nth(1).copied().unwrap_or(0),
                };
                db.migrate_down(target).await?;
                println!("reverted migrations newer than {target}");
            } else {
                db.migrate().await?;
                println!("migrations applied: {:?}", db.applied_migrations().await?);
            }
            db.close().await;
        }
        Command::Audit => {
            let db = Db::connect(&config.database).await?;
            let findings = commands::audit(&db).await?;
            db.close().await;
            if findings.is_empty() {
                println!("audit: OK, no findings");
            } else {
                for finding in &findings {
                    println!("audit: [{}] {}", finding.check, finding.detail);
                }
                println!("audit: {} finding(s)", findings.len());
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Healthcheck { database_only } => {
            return Ok(backend::healthcheck::run(&config, !database_only).await);
        }
        Command::Admin { action } => {
            let db = Db::connect(&config.database).await?;
            db.migrate().await?;
            let result = commands::admin(&config, &db, action).await;
            db.close().await;
            result?;
        }
        Command::SeedDemo { password } => {
            let db = Db::connect(&config.database).await?;
            db.migrate().await?;
            let pilots = commands::seed_demo(&config, &db, &password).await;
            db.close().await;
            for pilot in pilots? {
                println!(
                    "{} {} (zone {}): {}",
                    if pilot.created { "created" } else { "kept   " },
                    pilot.username,
                    pilot.zone,
                    pilot.email
                );
            }
            println!(
                "sign in with the username and the --password given (default: salvage-demo-flight)"
            );
        }
        Command::Outbox { to, limit } => {
            let db = Db::connect(&config.database).await?;
            commands::print_outbox(&db, to.as_deref(), limit).await?;
            db.close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
