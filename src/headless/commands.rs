//! The four commands, each: parse what the cluster must resolve, confirm, start, follow.

use crate::cli::{
    FinalizerPolicy, ForceDeleteArgs, GlobalArgs, RecoverAction, RecoverArgs, RedeployArgs,
    StripFinalizersArgs,
};
use crate::cluster::ClusterTarget;
use crate::cluster::client::Scope;
use crate::cluster::model::Kind;
use crate::exit::Exit;
use crate::orchestrator::recover::{self, Unfinished};
use crate::orchestrator::{
    EndpointId, EscalationPolicy, ObjectTarget, OpKind, RecoverMode, Request,
};

use std::io::IsTerminal;

use super::{Early, block_on, conclude, confirm, engine, follow};

pub(super) fn policy(p: FinalizerPolicy) -> EscalationPolicy {
    match p {
        FinalizerPolicy::Never => EscalationPolicy::Never,
        FinalizerPolicy::Strip => EscalationPolicy::Strip,
    }
}

/// The cluster target with the command's namespace (its `NS/NAME` wins over `-n`).
fn target_in(global: &GlobalArgs, ns: &str) -> ClusterTarget {
    let mut t = global.cluster_target();
    t.namespace = Some(Scope::Namespace(ns.to_string()));
    t
}

fn endpoint_id(ns: &str, name: &str) -> EndpointId {
    EndpointId {
        namespace: ns.to_string(),
        name: name.to_string(),
        mode: None,
    }
}

pub fn redeploy(global: &GlobalArgs, args: &RedeployArgs) -> Exit {
    // Set when the endpoint's unfinished operation is to be continued (`--continue`): `recover`
    // itself runs it once this runtime is gone, so its confirmations and output apply.
    let mut adopt: Option<(GlobalArgs, RecoverArgs)> = None;
    let exit = block_on("redeploy", async {
        let ep = &args.endpoint;
        let engine = engine(global, &target_in(global, &ep.namespace)).await?;
        match super::unfinished::before_redeploy(&engine, global, args).await? {
            super::unfinished::Next::Redeploy => {}
            super::unfinished::Next::Refused(exit) => return Ok(exit),
            super::unfinished::Next::Continue(g, r) => {
                adopt = Some((g, *r));
                return Ok(Exit::Ok);
            }
        }
        confirm(
            args.yes,
            &format!(
                "redeploy {}/{}: delete every object of it, verify they are gone, recreate it",
                ep.namespace, ep.name
            ),
            &ep.name,
        )?;
        let mut req = Request::new(OpKind::Redeploy, endpoint_id(&ep.namespace, &ep.name));
        req.finalizers = policy(args.finalizers);
        req.overrides = args.overrides.clone();
        req.timeout = args.timeout;
        req.ready_timeout = args.ready_timeout;
        let handle = engine
            .start(req)
            .map_err(|e| Early(Exit::LockHeld, e.to_string()))?;
        Ok(conclude(follow(handle, args.output).await, args.output))
    });
    match adopt {
        Some((g, r)) => recover(&g, &r),
        None => exit,
    }
}

pub fn force_delete(global: &GlobalArgs, args: &ForceDeleteArgs) -> Exit {
    block_on("force-delete", async {
        let ep = &args.endpoint;
        let target = match args.only() {
            Some((kind, name)) => Some(ObjectTarget {
                kind: Kind::parse(kind).ok_or_else(|| {
                    Early(Exit::Usage, format!("--kind {kind:?}: not one of an endpoint's kinds (isvc, deploy, rs, pod, svc, hpa, ing)"))
                })?,
                name: name.to_string(),
            }),
            None => None,
        };
        let engine = engine(global, &target_in(global, &ep.namespace)).await?;
        let what = match &target {
            Some(t) => format!(
                "force-delete {} {} of {}/{} (grace period 0)",
                t.kind.name(),
                t.name,
                ep.namespace,
                ep.name
            ),
            None => format!(
                "force-delete every object of {}/{} (grace period 0); nothing is recreated",
                ep.namespace, ep.name
            ),
        };
        confirm(args.yes, &what, &ep.name)?;
        let mut req = Request::new(OpKind::ForceDelete, endpoint_id(&ep.namespace, &ep.name));
        req.target = target;
        req.finalizers = policy(args.finalizers);
        req.timeout = args.timeout;
        let handle = engine
            .start(req)
            .map_err(|e| Early(Exit::LockHeld, e.to_string()))?;
        Ok(conclude(follow(handle, args.output).await, args.output))
    })
}

pub fn strip_finalizers(global: &GlobalArgs, args: &StripFinalizersArgs) -> Exit {
    block_on("strip-finalizers", async {
        let o = &args.object;
        let kind = Kind::parse(&o.kind).ok_or_else(|| {
            Early(Exit::Usage, format!("{:?} in {}/{}/{}: not one of an endpoint's kinds (isvc, deploy, rs, pod, svc, hpa, ing)", o.kind, o.namespace, o.kind, o.name))
        })?;
        let engine = engine(global, &target_in(global, &o.namespace)).await?;
        let endpoint = crate::orchestrator::inventory::endpoint_of(
            &engine.client_handle(),
            &o.namespace,
            kind,
            &o.name,
            &engine.settings().grouping,
        )
        .await
        .map_err(|e| Early(Exit::Failed, e.to_string()))?
        .ok_or_else(|| {
            Early(Exit::Usage, format!("{} {}/{} is not part of any endpoint (or does not exist); `llmops-console status -n {}` lists them", kind.name(), o.namespace, o.name, o.namespace))
        })?;
        confirm(
            args.yes,
            &format!(
                "strip every finalizer of {} {}/{} (endpoint {endpoint}); whatever they guard will not run",
                kind.name(),
                o.namespace,
                o.name
            ),
            &endpoint.name,
        )?;
        let mut req = Request::new(OpKind::StripFinalizers, endpoint);
        req.target = Some(ObjectTarget {
            kind,
            name: o.name.clone(),
        });
        req.timeout = args.timeout;
        let handle = engine
            .start(req)
            .map_err(|e| Early(Exit::LockHeld, e.to_string()))?;
        Ok(conclude(follow(handle, args.output).await, args.output))
    })
}

pub fn recover(global: &GlobalArgs, args: &RecoverArgs) -> Exit {
    block_on("recover", async {
        // Unfinished operations may be in any namespace: all of them unless -n says otherwise.
        let mut target = global.cluster_target();
        if target.namespace.is_none() {
            target.namespace = Some(Scope::All);
        }
        let engine = engine(global, &target).await?;
        let (id, mode) = match args.action() {
            RecoverAction::List => {
                let listing = recover::list_all(&engine).await;
                let mut notes = listing.notes.clone();
                if !args.all_clusters
                    && let Some(n) = recover::hidden_note(&listing.other_clusters)
                {
                    notes.push(n);
                }
                for n in notes {
                    let n = crate::text::sanitize(&n);
                    match args.output {
                        crate::cli::ProgressFormat::Json => {
                            super::print::stderr_json(&serde_json::json!({ "note": n }));
                        }
                        crate::cli::ProgressFormat::Text => {
                            super::print::stderr_line(&format!(
                                "llmops-console recover: note: {n}"
                            ));
                        }
                    }
                }
                let mut shown = listing.ops;
                if args.all_clusters {
                    shown.extend(listing.other_clusters);
                }
                print_list(&shown, args.output);
                return Ok(Exit::Ok);
            }
            RecoverAction::Resume(id) => (id, RecoverMode::Resume),
            RecoverAction::Rollback(id) => (id, RecoverMode::Rollback),
            RecoverAction::Discard(id) => (id, RecoverMode::Discard),
        };
        let options = crate::orchestrator::RecoverOptions {
            finalizers: policy(args.finalizers),
            timeout: args.timeout,
            ready_timeout: args.ready_timeout,
        };
        recover_operation(&engine, &id, mode, options, args.yes, args.output).await
    })
}

/// Plans, shows, confirms and runs the recovery of `op_id`: `recover OP --resume`,
/// `--rollback`, `--discard`, and any front end that continues an operation (`redeploy
/// --continue`). The plan (what is deleted and created, the differences to what stands, where
/// the record came from, warnings) is printed on stderr first, always. Then, in this order:
/// without `--yes` and without a terminal it refuses (exit 2); a plan with problems is refused
/// (exit 1) without asking; otherwise `--yes` or the endpoint's name typed on the terminal
/// confirms it, for a record from this machine's journal and for one found only in the cluster
/// alike (the plan names the latter as such, with the ConfigMap's writer, before anything runs).
pub(crate) async fn recover_operation(
    engine: &crate::orchestrator::Engine,
    op_id: &str,
    mode: RecoverMode,
    options: crate::orchestrator::RecoverOptions,
    yes: bool,
    output: crate::cli::ProgressFormat,
) -> Result<Exit, Early> {
    let plan = engine
        .plan_recovery(op_id, mode, options)
        .await
        .map_err(|e| Early(super::exit_of(e.result), e.message))?;
    match output {
        crate::cli::ProgressFormat::Json => super::print::stderr_json(&plan.to_json()),
        crate::cli::ProgressFormat::Text => {
            for line in plan.lines() {
                super::print::stderr_line(&crate::text::sanitize(&line));
            }
        }
    }
    let what = match mode {
        RecoverMode::Discard => format!(
            "discard the backup of operation {op_id} (endpoint {}), leaving the endpoint as it is",
            plan.endpoint
        ),
        _ => format!(
            "{} operation {op_id} on {} as planned above",
            mode.name(),
            plan.endpoint
        ),
    };
    if !yes && !std::io::stdin().is_terminal() {
        let anyway = if plan.problems.is_empty() {
            String::new()
        } else {
            "; the plan could not run anyway (CANNOT RUN above)".to_string()
        };
        return Err(Early(
            Exit::Usage,
            format!(
                "refusing to {what} without --yes: stdin is not a terminal to confirm on; \
                 nothing was changed{anyway}"
            ),
        ));
    }
    if !plan.problems.is_empty() {
        return Err(Early(Exit::Failed, plan.refusal()));
    }
    confirm(yes, &what, &plan.endpoint.name)?;
    let handle = engine
        .recover_plan(plan)
        .map_err(|e| Early(Exit::LockHeld, e.to_string()))?;
    Ok(conclude(follow(handle, output).await, output))
}

fn print_list(list: &[Unfinished], format: crate::cli::ProgressFormat) {
    use crate::text::sanitize;
    if format == crate::cli::ProgressFormat::Json {
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|u| {
                let mut row = serde_json::json!({
                    "id": u.record.id, "kind": u.record.kind, "endpoint": u.record.endpoint.to_string(),
                    "step": u.record.step, "state": u.record.state, "started": u.record.started.to_string(),
                    "holder": u.record.holder, "foundIn": u.found_in,
                    "thisCluster": u.this_cluster, "server": u.record.server,
                });
                if let recover::Source::Cluster(copy) = &u.source {
                    row["configMap"] = serde_json::json!(copy.path());
                    row["writers"] = serde_json::json!(copy.managers);
                    row["createdAt"] = serde_json::json!(copy.created);
                    row["verified"] = serde_json::json!(false);
                    row["note"] = serde_json::json!(copy.describe(&u.record.holder));
                }
                row
            })
            .collect();
        let rows = serde_json::Value::Array(rows);
        super::print::stdout_text(&format!(
            "{}\n",
            crate::text::to_json(&rows).unwrap_or_default()
        ));
        return;
    }
    use std::fmt::Write as _;
    let mut out = String::new();
    if list.is_empty() {
        let _ = writeln!(out, "no unfinished operations");
        super::print::stdout_text(&out);
        return;
    }
    let _ = writeln!(
        out,
        "{:<64} {:<36} {:<16} {:<15} {:<16} STARTED",
        "OPERATION", "ENDPOINT", "STEP", "STATE", "FOUND IN"
    );
    for u in list {
        let r = &u.record;
        let _ = writeln!(
            out,
            "{:<64} {:<36} {:<16} {:<15} {:<16} {}",
            sanitize(&r.id),
            sanitize(&r.endpoint.to_string()),
            r.step.name(),
            r.state.name(),
            u.found_in,
            r.started
        );
        if let recover::Source::Cluster(copy) = &u.source {
            let _ = writeln!(out, "    {}", copy.describe(&r.holder));
        }
        if !u.this_cluster {
            let _ = writeln!(
                out,
                "    recorded against another cluster: {} (context {})",
                sanitize(&r.server),
                sanitize(&r.context)
            );
        }
    }
    let _ = writeln!(
        out,
        "\nresume: llmops-console recover OPERATION --resume    roll back: llmops-console recover OPERATION --rollback\n\
         drop the backup: llmops-console recover OPERATION --discard    (each shows its plan and asks first)"
    );
    super::print::stdout_text(&out);
}
