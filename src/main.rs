//! `oncall`: the command line that composes ingest, retrieval, agent, web
//! and evals. The only place that reads the environment.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use ingest::{ReadOptions, Severity, SourceKind};
use retrieval::{Filters, SearchMode, SearchQuery, Stores, TimeRange};

mod flows_command;
mod ingest_command;
mod llm_config;
mod report;
mod secrets;
mod serve_command;
mod stores_config;
mod terminal;

use llm_config::LlmArgs;
use stores_config::StoreArgs;

/// Warnings and errors; the embedded vector engine's start-up chatter about
/// its own feature flags is not the user's concern.
const DEFAULT_LOG_FILTER: &str = "warn,qdrant_edge=error";

/// Exit status when some input could not be read but every good record was kept.
pub(crate) const EXIT_PARTIAL: u8 = 3;

#[derive(Parser)]
#[command(
    name = "oncall",
    version,
    about = "AI-assisted on-call assistant for identity and API platforms"
)]
struct Cli {
    /// Data directory holding the stores.
    #[arg(long, env = "ONCALL_HOME", default_value = ".oncall", global = true)]
    home: PathBuf,
    /// Tenant whose data is read and written.
    #[arg(long, env = "ONCALL_TENANT", default_value = "default", global = true)]
    tenant: String,
    /// Pseudonymize personal data and secrets in records before they are
    /// stored (ingest and uploads); the key is kept in $ONCALL_HOME/keys.
    #[arg(long, env = "ONCALL_REDACT_AT_REST", global = true)]
    redact_at_rest: bool,
    #[command(flatten)]
    stores: StoreArgs,
    #[command(flatten)]
    llm: LlmArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest files or directories (recursively) into the stores.
    Ingest(ingest_command::IngestArgs),
    /// Answer a diagnostic question with cited evidence.
    Ask {
        /// The question, e.g. "Why are users getting 401s since 14:05?".
        question: String,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search with filters: BM25, vector or both fused (hybrid).
    Search {
        /// Words to search for.
        query: String,
        /// Retrievers to use: text, vector or hybrid.
        #[arg(long, value_parser = parse_mode, default_value = "hybrid")]
        mode: SearchMode,
        /// Keep only these services.
        #[arg(long)]
        service: Vec<String>,
        /// Keep only these source kinds (log, auth, config, change, knowledge, incident, metric).
        #[arg(long, value_parser = parse_kind)]
        kind: Vec<SourceKind>,
        /// Keep only these severities (debug, info, warn, error, fatal).
        #[arg(long, value_parser = parse_severity)]
        severity: Vec<Severity>,
        /// Only records at or after this time (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        from: Option<chrono::DateTime<chrono::Utc>>,
        /// Only records before this time (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        to: Option<chrono::DateTime<chrono::Utc>>,
        /// Number of hits.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// Print hits as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Retention: delete the tenant's records older than an age (and the
    /// vector units that ended before it). Configs and runbooks, which have
    /// no timestamp, are kept.
    Prune {
        /// Age to keep, in days (e.g. 30d or 30).
        #[arg(long, value_parser = parse_days)]
        older_than: chrono::Duration,
        /// Measure the age from this time instead of now (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Serve the web UI, JSON API and chat endpoints.
    Serve(serve_command::ServeArgs),
    /// Make, list and revoke API tokens of the tenant.
    #[command(subcommand)]
    Token(serve_command::TokenCommand),
    /// Run the eval: the bundled incident and generated cases of every family.
    Eval {
        /// A specific evaluation instead of the cases.
        #[command(subcommand)]
        target: Option<EvalTarget>,
        #[command(flatten)]
        run: EvalArgs,
    },
    /// Generate a seeded incident scenario with its ground truth.
    Gen {
        /// Family (key-rotation, tls-expiry, dns-misroute, rate-limit, credential-stuffing, db-pool-exhaustion, clock-skew, redirect-uri-mismatch) or "all".
        #[arg(long, default_value = "all")]
        family: String,
        /// Seed; the same seed writes the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Lines of unrelated background activity per scenario.
        #[arg(long, default_value_t = 6000)]
        lines: usize,
        /// Output directory (one sub-directory per scenario with "all").
        #[arg(long)]
        out: PathBuf,
    },
    /// Login and token flows reconstructed from auth traces, or with --flags
    /// the risky events found in them.
    Flows(flows_command::FlowsArgs),
    /// Generate seeded login and token flows with their true grouping
    /// (`flows.json`), for `oncall eval flows` and benchmarks.
    GenFlows {
        /// Number of flows (about five events each).
        #[arg(long, default_value_t = 2000)]
        flows: usize,
        /// Seed; the same seed writes the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory (`data/` and `flows.json`).
        #[arg(long)]
        out: PathBuf,
    },
    /// Redact personal data and secrets from standard input (counts on stderr).
    Redact,
    /// Ingest the bundled incident into a temporary store and answer its question.
    Demo {
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum EvalTarget {
    /// Search latency per retriever (with and without filters) and the
    /// vector index's recall@10 against exact search, on the data in $ONCALL_HOME.
    Search {
        /// Queries sampled from the stored records.
        #[arg(long, default_value_t = 200)]
        queries: usize,
        /// Seed for the sampling.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print the figures (and the queries) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Flow reconstruction against generated truth (`oncall gen-flows`):
    /// pairwise precision and recall of the grouping, first failures named.
    Flows {
        /// Folder written by `oncall gen-flows`.
        dir: PathBuf,
        /// Print the scores as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Scores evidence-mode answers on an incident set written outside the
    /// project (folders of case.json and data/, such as
    /// ../shared/data/incidents): key facts, evidence patterns, citation
    /// precision and remediation points, by that set's rules.
    Incidents {
        /// Folder of case folders.
        dir: PathBuf,
        /// Print the scores as JSON.
        #[arg(long)]
        json: bool,
        /// Also write each case's answer, as a reader sees it, to DIR/<case>.txt.
        #[arg(long, value_name = "DIR")]
        answers: Option<PathBuf>,
    },
    /// Scores history answers and incident-time extraction on a postmortem
    /// set (report files, qa.jsonl, durations.jsonl), such as
    /// ../shared/data/postmortems.
    Postmortems {
        /// Folder of the set.
        dir: PathBuf,
        /// Print the scores as JSON.
        #[arg(long)]
        json: bool,
        /// Also write each question's answer, as a reader sees it, to DIR/<id>.txt.
        #[arg(long, value_name = "DIR")]
        answers: Option<PathBuf>,
    },
    /// Template-mining accuracy on LogHub-style labelled samples.
    Loghub {
        /// Folder with formats.tsv and NAME/NAME_2k.log{,_structured.csv}.
        dir: PathBuf,
        /// Times each log is mined (fresh miner each time), for steady throughput figures.
        #[arg(long, default_value_t = 1)]
        passes: usize,
        /// Print the scores as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn parse_kind(name: &str) -> Result<SourceKind, String> {
    SourceKind::parse(name).ok_or_else(|| format!("unknown kind {name:?}"))
}

fn parse_severity(name: &str) -> Result<Severity, String> {
    Severity::parse(name).ok_or_else(|| format!("unknown severity {name:?}"))
}

fn parse_mode(name: &str) -> Result<SearchMode, String> {
    SearchMode::parse(name).ok_or_else(|| format!("unknown mode {name:?}; text, vector or hybrid"))
}

fn parse_days(text: &str) -> Result<chrono::Duration, String> {
    text.strip_suffix('d')
        .unwrap_or(text)
        .parse::<u32>()
        .ok()
        .filter(|days| *days > 0)
        .map(|days| chrono::Duration::days(i64::from(days)))
        .ok_or_else(|| format!("{text:?} is not a number of days, e.g. 30d"))
}

fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    ingest::parse_timestamp(text).ok_or_else(|| format!("not a timestamp: {text:?}"))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ONCALL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// A closed pipe (`oncall ... | head`) ends output early; it is not a failure.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Ingest(args) => {
            let stores = cli.stores.open(&cli.home)?;
            let at_rest = at_rest_filter(&cli.home, cli.redact_at_rest)?;
            ingest_command::run(&stores, &cli.home, &cli.tenant, at_rest.as_ref(), args)
        }
        Command::Flows(args) => {
            let rules = cli.llm.rule_config()?;
            flows_command::run(args, &cli.tenant, &rules, || {
                open_existing(&cli.home, &cli.stores)
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Prune { older_than, now } => {
            let stores = open_existing(&cli.home, &cli.stores)?;
            let cutoff = now
                .unwrap_or_else(chrono::Utc::now)
                .checked_sub_signed(older_than)
                .context("--older-than reaches before the earliest representable time")?;
            let deleted = stores.delete_before(&cli.tenant, cutoff)?;
            println!(
                "deleted {deleted} records of tenant {} stamped before {}",
                cli.tenant,
                cutoff.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Ask { question, json } => {
            let stores = open_existing(&cli.home, &cli.stores)?;
            let answer = answer_question(&cli.llm, &cli.home, &stores, &cli.tenant, &question)?;
            report::answer(&answer, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Search {
            query,
            mode,
            service,
            kind,
            severity,
            from,
            to,
            limit,
            json,
        } => {
            let stores = open_existing(&cli.home, &cli.stores)?;
            let query = SearchQuery {
                tenant: cli.tenant,
                text: query,
                filters: Filters {
                    services: service,
                    kinds: kind,
                    severities: severity,
                    time: TimeRange { from, to },
                },
                limit,
            };
            let hits = stores.search(&query, mode)?;
            report::hits(&hits, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            let stores = cli.stores.open(&cli.home)?;
            let llm = cli.llm.agent(&cli.home)?;
            let runtime = tokio::runtime::Runtime::new()?;
            let db = runtime.block_on(serve_command::open_state_db(&cli.home))?;
            let mut state = web::AppState::new(stores, cli.tenant, db, cli.home.clone())
                .with_eval_history(evals::History::new(&cli.home.join("evals")))
                .with_token_prices(cli.llm.token_prices()?);
            if let Some(setup) = &llm {
                state = state.with_llm(setup.agent.clone());
            }
            if let Some(filter) = at_rest_filter(&cli.home, cli.redact_at_rest)? {
                state = state.with_redaction_at_rest(std::sync::Arc::new(filter));
            }
            serve_command::run(args, state, &runtime, &cli.home)
        }
        Command::Token(command) => serve_command::token(command, &cli.home, &cli.tenant),
        Command::GenFlows { flows, seed, out } => {
            let truth = evals::generate_flows(&out, &evals::FlowGenOptions { seed, flows })?;
            println!(
                "wrote {} events of {} flows to {}",
                truth.events,
                truth.flows.len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            target: Some(EvalTarget::Flows { dir, json }),
            ..
        } => {
            let scores = evals::score_flows(&dir)?;
            report::flow_scores(&scores, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            target: Some(EvalTarget::Incidents { dir, json, answers }),
            ..
        } => {
            let report = evals::evaluate_incident_set(&dir, answers.as_deref())?;
            report::incident_set(&report, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            target: Some(EvalTarget::Postmortems { dir, json, answers }),
            ..
        } => {
            let report = evals::evaluate_postmortem_set(&dir, answers.as_deref())?;
            report::postmortem_set(&report, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            target: Some(EvalTarget::Loghub { dir, passes, json }),
            ..
        } => {
            let report = evals::evaluate_loghub(&dir, passes)?;
            report::loghub(&report, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval {
            target:
                Some(EvalTarget::Search {
                    queries,
                    seed,
                    json,
                }),
            ..
        } => {
            let stores = open_existing(&cli.home, &cli.stores)?;
            let bench = evals::bench_search(&stores, &cli.tenant, queries, seed)?;
            report::search_bench(&bench, json)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval { target: None, run } => run_eval(&cli.home, &cli.stores, &cli.llm, run),
        Command::Gen {
            family,
            seed,
            lines,
            out,
        } => {
            let families = if family == "all" {
                evals::Family::ALL.to_vec()
            } else {
                vec![
                    evals::Family::from_name(&family)
                        .with_context(|| format!("unknown family {family:?}"))?,
                ]
            };
            for family in families {
                let dir = out.join(format!("{}-{seed}", family.name()));
                let truth = evals::generate(
                    &dir,
                    &evals::GenOptions {
                        family,
                        seed,
                        background_lines: lines,
                        tenant: cli.tenant.clone(),
                    },
                )?;
                report::generated(&dir, &truth)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Redact => {
            let redactor = privacy::Redactor::new()?;
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text)
                .context("reading standard input")?;
            let redacted = redactor.redact(&text, &mut privacy::RedactionSession::default());
            report::redacted(&redacted)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { json } => {
            let home = tempfile::tempdir()?;
            let stores = cli.stores.open(home.path())?;
            let case = evals::Case::load(&evals::bundled_incident_dir())?;
            let summary = ingest_command::ingest_paths(
                &stores,
                home.path(),
                ReadOptions::new(&case.truth.tenant),
                std::slice::from_ref(&case.data),
                None,
            )?;
            if !json {
                report::demo_header(summary.records, &case)?;
            }
            let answer = answer_question(
                &cli.llm,
                home.path(),
                &stores,
                &case.truth.tenant,
                &case.truth.question,
            )?;
            report::answer(&answer, json)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Answers with the configured LLM (streaming, progress on a terminal), or
/// in evidence mode when none is configured.
fn answer_question(
    llm: &LlmArgs,
    home: &Path,
    stores: &Stores,
    tenant: &str,
    question: &str,
) -> Result<agent::Answer> {
    let Some(setup) = llm.agent(home)? else {
        return Ok(agent::EvidenceEngine::new(stores).ask(tenant, question)?);
    };
    let progress = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::hidden()
    };
    progress.set_message("asking the LLM");
    progress.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut received = 0usize;
    let mut on_delta = |text: &str| {
        received += text.len();
        progress.set_message(format!("answer streaming: {received} bytes"));
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let answer = runtime.block_on(setup.agent.ask(
        stores,
        tenant,
        question,
        agent::Audience::LocalUser,
        Some(&mut on_delta),
    ));
    progress.finish_and_clear();
    Ok(answer?)
}

fn open_existing(home: &Path, stores: &StoreArgs) -> Result<Stores> {
    if !stores_config::has_data(home) {
        bail!(
            "no data in {}: run `oncall ingest PATH` first (or `oncall demo`)",
            home.display()
        );
    }
    stores.open(home)
}

fn parse_floor(text: &str) -> Result<(String, f64), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected NAME=VALUE"))?;
    let value: f64 = value
        .parse()
        .map_err(|_| format!("{text:?}: {value:?} is not a number"))?;
    Ok((name.trim().to_string(), value))
}

fn parse_split(name: &str) -> Result<evals::Split, String> {
    evals::Split::parse(name).ok_or_else(|| format!("unknown split {name:?}; dev or test"))
}

/// How `oncall eval` runs a dataset.
#[derive(clap::Args)]
struct EvalArgs {
    /// Dataset (JSONL); the bundled one (41 cases) by default.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Run one split only: dev or test.
    #[arg(long, value_parser = parse_split)]
    split: Option<evals::Split>,
    /// Fail (exit 1) when a metric falls below the accepted baseline by more than --tolerance.
    #[arg(long)]
    check: bool,
    /// Accept this run as the new baseline.
    #[arg(long)]
    accept: bool,
    /// Also write an HTML report with per-case drill-down to this file.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Allowed drop per metric for --check.
    #[arg(long, default_value_t = 0.02)]
    tolerance: f64,
    /// Print the aggregate metrics as one JSON object.
    #[arg(long)]
    json: bool,
    /// Run the dataset once per configuration (BM25 only, vectors only,
    /// hybrid, and the configured LLM) and show them side by side with deltas.
    #[arg(long)]
    ablate: bool,
    /// With --ablate, also run the configured LLM endpoint with this model
    /// (repeatable).
    #[arg(long = "ablate-model", requires = "ablate")]
    ablate_models: Vec<String>,
    /// With --ablate, also run the configured LLM with this prompt version
    /// from --prompts DIR (repeatable).
    #[arg(long = "ablate-prompts", requires = "ablate")]
    ablate_prompts: Vec<String>,
    /// Fail (exit 1) when a metric is below a floor: NAME=VALUE, repeatable
    /// (names as in --json, e.g. recall_at_10=0.7).
    #[arg(long = "min", value_parser = parse_floor)]
    floors: Vec<(String, f64)>,
    /// Use the configured LLM (--llm ...) as a judge of root causes, beside
    /// the key-fact match, instead of as the answerer (with --ablate it does both).
    #[arg(long)]
    judge: bool,
}

/// Runs a dataset, keeps the run in `$ONCALL_HOME/evals`, and checks it
/// against the accepted baseline when asked.
fn run_eval(home: &Path, stores: &StoreArgs, llm: &LlmArgs, args: EvalArgs) -> Result<ExitCode> {
    let EvalArgs {
        dataset,
        split,
        check,
        accept,
        report: report_path,
        tolerance,
        json,
        ablate,
        judge: use_judge,
        floors,
        ablate_models,
        ablate_prompts,
    } = args;
    if ablate && (check || accept || report_path.is_some() || !floors.is_empty()) {
        bail!(
            "--ablate compares configurations side by side; run --check, --accept, --min or --report without it"
        );
    }
    let dataset = dataset.unwrap_or_else(evals::default_dataset);
    let scratch = tempfile::tempdir()?;
    let cases = evals::load_dataset(&dataset, split, scratch.path())?;
    let embedder = stores.embedder_if_enabled(home)?;
    // Payloads are kept (redacted, as sent) so that leaks can be counted.
    let audit_dir = home.join("evals").join("audit");
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let llm_setup = llm.agent_with_audit(
        privacy::AuditLog::new(&audit_dir.join(format!("{stamp}-llm.jsonl"))).keeping_payloads(),
    )?;
    let agent = llm_setup.as_ref().map(|setup| setup.agent.as_ref());
    let judge = match (use_judge, &llm_setup) {
        (false, _) => None,
        (true, Some(setup)) => Some(evals::Judge::new(
            agent::LlmClient::new(setup.agent.llm_config().clone()),
            privacy::AuditLog::new(&audit_dir.join(format!("{stamp}-judge.jsonl")))
                .keeping_payloads(),
        )),
        (true, None) => bail!("--judge needs an LLM: configure one with --llm local|openai"),
    };
    let answering_agent = if use_judge && !ablate { None } else { agent };
    let run_with = |answerer: evals::Answerer<'_>| -> Result<evals::Run> {
        let started = chrono::Utc::now();
        let (scores, details): (Vec<_>, Vec<_>) =
            evals::run_dataset(&cases, embedder.as_ref(), answerer, judge.as_ref())?
                .into_iter()
                .unzip();
        Ok(evals::Run {
            started,
            dataset: dataset.display().to_string(),
            split,
            mode: answerer.label(),
            summary: evals::Summary::of(&scores),
            cases: scores,
            details,
        })
    };
    let history = evals::History::new(&home.join("evals"));
    if ablate {
        // Retrievers first (those this run has), then the LLM against them.
        let mut answerers: Vec<evals::Answerer<'_>> = SearchMode::ALL
            .into_iter()
            .filter(|mode| embedder.is_some() || *mode == SearchMode::Text)
            .map(|search_mode| evals::Answerer {
                search_mode,
                llm: None,
            })
            .collect();
        let variants = match &llm_setup {
            Some(setup) => {
                let mut variants: Vec<agent::LlmAgent> = ablate_models
                    .iter()
                    .map(|model| setup.variant(Some(model), None))
                    .collect();
                for version in &ablate_prompts {
                    variants.push(setup.variant(None, Some(llm.prompt_set(version)?)));
                }
                variants
            }
            None if ablate_models.is_empty() && ablate_prompts.is_empty() => Vec::new(),
            None => bail!("--ablate-model and --ablate-prompts need an LLM: --llm local|openai"),
        };
        for agent in answering_agent.into_iter().chain(&variants) {
            answerers.push(evals::Answerer {
                llm: Some(agent),
                ..evals::Answerer::evidence()
            });
        }
        let mut runs = Vec::new();
        for answerer in answerers {
            let run = run_with(answerer)?;
            history.save(&run)?;
            runs.push(run);
        }
        report::ablation(&runs, json)?;
        return Ok(exit_code(no_leaks(
            runs.iter().map(|r| r.summary.leaks).sum(),
        )));
    }
    let run = run_with(evals::Answerer {
        llm: answering_agent,
        ..evals::Answerer::evidence()
    })?;
    if let Some(path) = &report_path {
        std::fs::write(path, evals::render_report(&run)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let saved = history.save(&run)?;
    let baseline = history.baseline()?;
    report::eval(&run, &saved, json)?;
    let failures = match (&baseline, check) {
        (Some(baseline), true)
            if baseline.dataset != run.dataset || baseline.split != run.split =>
        {
            eprintln!(
                "the accepted baseline ran {} (split {:?}); nothing to compare with this run",
                baseline.dataset, baseline.split
            );
            Vec::new()
        }
        (Some(baseline), true) => evals::regressions(&run.summary, &baseline.summary, tolerance),
        (None, true) => {
            eprintln!(
                "no accepted baseline yet: nothing to check against (run with --accept to set one)"
            );
            Vec::new()
        }
        _ => Vec::new(),
    };
    if accept {
        history.accept(&run)?;
    }
    for failure in &failures {
        eprintln!("regression: {failure}");
    }
    let named = run.summary.named();
    let mut below = Vec::new();
    for (name, floor) in &floors {
        let Some((_, value)) = named.iter().find(|(n, _)| n == name) else {
            bail!(
                "--min {name}: no such metric in this run; one of {}",
                named.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            );
        };
        if value < floor {
            below.push(format!("{name}: {value:.3} < floor {floor}"));
        }
    }
    for failure in &below {
        eprintln!("below floor: {failure}");
    }
    let private = no_leaks(run.summary.leaks);
    Ok(exit_code(
        failures.is_empty() && below.is_empty() && private,
    ))
}

/// Any planted secret in an outbound payload fails the run.
fn no_leaks(leaks: usize) -> bool {
    if leaks > 0 {
        eprintln!(
            "privacy: {leaks} planted secrets or personal data left the process; the run fails"
        );
    }
    leaks == 0
}

fn exit_code(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The at-rest filter of the data directory `home`, when asked for. It
/// fails closed: without its key nothing is ingested.
fn at_rest_filter(home: &Path, wanted: bool) -> Result<Option<privacy::AtRest>> {
    if !wanted {
        return Ok(None);
    }
    let key = home.join("keys").join("at-rest.key");
    Ok(Some(
        privacy::AtRest::open(&key).context("redaction at rest")?,
    ))
}
