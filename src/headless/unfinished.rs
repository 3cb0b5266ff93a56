//! `redeploy` on an endpoint that has an unfinished operation: said before anything is asked or
//! done, with the exact command that continues it (the options just given carried over), or,
//! with `--continue`, handed to `recover OP --resume` itself.

use std::time::Duration;

use clap::Parser;
use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use crate::cli::{Cli, Command, GlobalArgs, ProgressFormat, RecoverArgs, RedeployArgs};
use crate::cluster::derive::lease_info;
use crate::cluster::kinds::lease_name;
use crate::exit::Exit;
use crate::orchestrator::progress::{OpKind, OpResult, Outcome, Step};
use crate::orchestrator::recover::Unfinished;
use crate::orchestrator::unfinished::{describe, of_endpoint, recover_flags, refusal};
use crate::orchestrator::{EndpointId, Engine};
use crate::text::sanitize;

use super::Early;
use super::commands::policy;

/// What `redeploy` does next.
pub(super) enum Next {
    /// Nothing unfinished: a new redeploy.
    Redeploy,
    /// Refused (exit 3: the unfinished operation holds the endpoint as a lock would).
    Refused(Exit),
    /// `--continue`: run `recover` with these arguments.
    Continue(GlobalArgs, Box<RecoverArgs>),
}

/// Looks for the endpoint's unfinished operations before anything is confirmed or started.
pub(super) async fn before_redeploy(
    engine: &Engine,
    global: &GlobalArgs,
    args: &RedeployArgs,
) -> Result<Next, Early> {
    let ep = &args.endpoint;
    let (found, notes) = of_endpoint(engine, &ep.namespace, &ep.name).await;
    if args.output == ProgressFormat::Text {
        for n in notes {
            super::print::message(
                "redeploy",
                super::print::Level::Warning,
                &format!("looking for unfinished operations: {n}"),
            );
        }
    }
    let Some(u) = found.first() else {
        if args.continue_unfinished {
            return Err(Early(
                Exit::Usage,
                format!(
                    "--continue: {}/{} has no unfinished operation (`llmops-console recover --list` \
                     shows them all); without --continue this is a new redeploy",
                    ep.namespace, ep.name
                ),
            ));
        }
        return Ok(Next::Redeploy);
    };
    let mut resume = resume_words(args, &u.record.id);
    if args.continue_unfinished {
        // `redeploy --continue --yes` confirmed it; the advice printed on a refusal leaves
        // `--yes` out, so whoever types it sees the plan and confirms.
        if args.yes {
            resume.push("--yes".to_string());
        }
        // `recover` shows its plan and confirms by itself (`--yes` is passed on).
        if args.output == ProgressFormat::Text {
            super::print::stderr_line(&format!(
                "continuing {}: {}",
                describe(u),
                shell_line(&resume, global, &ep.namespace)
            ));
        }
        let parsed =
            Cli::try_parse_from(std::iter::once("llmops-console".to_string()).chain(resume))
                .map_err(|e| {
                    Early(
                        Exit::Failed,
                        format!("cannot build the recover command: {e}"),
                    )
                })?;
        let Some(Command::Recover(r)) = parsed.command else {
            return Err(Early(
                Exit::Failed,
                "cannot build the recover command".into(),
            ));
        };
        let mut g = global.clone();
        g.namespace = Some(ep.namespace.clone());
        g.all_namespaces = false;
        return Ok(Next::Continue(g, Box::new(r)));
    }
    let message = refusal_message(engine, global, args, u).await;
    if args.output == ProgressFormat::Json {
        // The result a script reads, as for any other refusal.
        super::print::outcome(&refused_outcome(args, message), args.output);
        return Ok(Next::Refused(Exit::LockHeld));
    }
    Err(Early(Exit::LockHeld, message))
}

async fn refusal_message(
    engine: &Engine,
    global: &GlobalArgs,
    args: &RedeployArgs,
    u: &Unfinished,
) -> String {
    let ep = &args.endpoint;
    let id = &u.record.id;
    let resume = shell_line(&resume_words(args, id), global, &ep.namespace);
    let rollback_words = vec!["recover".to_string(), id.clone(), "--rollback".to_string()];
    let rollback = shell_line(&rollback_words, global, &ep.namespace);
    let mut msg = refusal(
        &format!("{}/{}", ep.namespace, ep.name),
        u,
        &resume,
        &rollback,
    );
    msg.push_str(" (`--continue` on this redeploy does the first)");
    if lease_names(engine, &ep.namespace, &ep.name, id).await {
        msg.push_str(
            ". Its lease is still live: if it is running, let it finish; if its process is gone, \
             recover takes the lease over (at once when it ran on this host, else once the lease \
             expires)",
        );
    }
    msg
}

/// Whether the endpoint's lease is live and names operation `op_id` (it may still be running).
async fn lease_names(engine: &Engine, ns: &str, name: &str, op_id: &str) -> bool {
    let api: Api<Lease> = Api::namespaced(engine.client_handle(), ns);
    match api.get_opt(&lease_name(name)).await {
        Ok(Some(l)) => {
            let info = lease_info(&l, Timestamp::now());
            info.live && info.operation_id.as_deref() == Some(op_id)
        }
        _ => false,
    }
}

/// `recover OP --resume` with the redeploy's options (and `--yes` when recover takes it and the
/// redeploy had it: its confirmation is then the one already given).
fn resume_words(args: &RedeployArgs, op_id: &str) -> Vec<String> {
    let mut words = vec![
        "recover".to_string(),
        op_id.to_string(),
        "--resume".to_string(),
    ];
    words.extend(recover_flags(
        policy(args.finalizers),
        args.timeout,
        args.ready_timeout,
    ));
    if args.output == ProgressFormat::Json {
        words.extend(["-o".to_string(), "json".to_string()]);
    }
    words
}

/// The command line to type: the words, then the namespace and the cluster flags given.
fn shell_line(words: &[String], global: &GlobalArgs, ns: &str) -> String {
    let mut all = vec!["llmops-console".to_string()];
    all.extend(words.iter().cloned());
    all.extend(["-n".to_string(), ns.to_string()]);
    if let Some(k) = &global.kubeconfig {
        all.extend(["--kubeconfig".to_string(), k.display().to_string()]);
    }
    if let Some(c) = &global.context {
        all.extend(["--context".to_string(), c.clone()]);
    }
    all.iter()
        .map(|w| quote(&sanitize(w)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A shell word: as is when plain, else single-quoted.
fn quote(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+".contains(c));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

fn refused_outcome(args: &RedeployArgs, message: String) -> Outcome {
    Outcome {
        op_id: String::new(),
        kind: OpKind::Redeploy,
        endpoint: EndpointId {
            namespace: args.endpoint.namespace.clone(),
            name: args.endpoint.name.clone(),
            mode: None,
        },
        result: OpResult::LockHeld,
        failed_step: Some(Step::Lock),
        message,
        rollback: None,
        created: vec![],
        deleted: vec![],
        retries: 0,
        elapsed: Duration::ZERO,
        journal: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(quote("/tmp/k"), "/tmp/k");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
