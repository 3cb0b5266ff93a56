//! A recovery plan as the operator reads it before confirming: text lines, or one JSON value.
//! Everything in it may come from the cluster (a planted backup included): sanitised here.

use serde_json::{Value, json};

use super::plan::{Action, RecoveryPlan};
use crate::orchestrator::engine::RecoverMode;
use crate::text::sanitize;

/// Differences shown per object before "... and N more".
const MAX_CHANGES: usize = 12;

impl RecoveryPlan {
    /// The plan as lines for a terminal (no trailing newlines).
    pub fn lines(&self) -> Vec<String> {
        let rec = &self.record;
        let mut out = vec![
            format!(
                "{} operation {} ({} of {})",
                self.mode.name(),
                rec.id,
                rec.kind.name(),
                self.endpoint
            ),
            format!("  record: {}", self.source.describe(rec)),
            format!(
                "  it was {} at step {}, started {} by {}",
                rec.state.name(),
                rec.step,
                rec.started,
                rec.holder
            ),
        ];
        match self.mode {
            RecoverMode::Discard => {
                out.push(format!(
                    "  will remove the backup ConfigMap {}/{} (if it is this operation's) and \
                     mark the record discarded; nothing of the endpoint is touched",
                    self.endpoint.namespace,
                    crate::orchestrator::backup::backup_name(&self.endpoint.name)
                ));
            }
            // Refused before it was worked out: nothing to show but why.
            _ if !self.problems.is_empty() && self.objects.is_empty() => {}
            _ if self.no_backup.is_some() => {
                out.push(format!(
                    "  nothing to converge to: {}",
                    self.no_backup.as_deref().unwrap_or_default()
                ));
            }
            _ => self.push_actions(&mut out),
        }
        if !self.ignored.is_empty() {
            out.push("  left alone:".into());
            out.extend(self.ignored.iter().map(|i| format!("    {i}")));
        }
        if !self.warnings.is_empty() {
            out.push("  WARNINGS:".into());
            out.extend(self.warnings.iter().map(|w| format!("    {w}")));
        }
        if !self.problems.is_empty() {
            out.push("  CANNOT RUN:".into());
            out.extend(self.problems.iter().map(|p| format!("    {p}")));
        }
        out.into_iter().map(|l| sanitize(&l).into_owned()).collect()
    }

    fn push_actions(&self, out: &mut Vec<String>) {
        if self.mode == RecoverMode::Resume {
            if self.deletes.is_empty() {
                out.push("  will delete: nothing (the old objects are gone or going)".into());
            } else {
                out.push("  will delete (each UID checked again right before):".into());
                out.extend(
                    self.deletes
                        .iter()
                        .map(|d| format!("    {d} (uid {})", d.uid)),
                );
            }
            let waits = self.verify_gone.len();
            if waits > 0 {
                out.push(format!(
                    "  will wait until {waits} old object(s) of the endpoint are gone, finalizers: {}",
                    match self.options.finalizers {
                        crate::orchestrator::request::EscalationPolicy::Never => "never stripped",
                        crate::orchestrator::request::EscalationPolicy::Strip =>
                            "stripped when stuck",
                        crate::orchestrator::request::EscalationPolicy::Ask =>
                            "asked about when stuck",
                    }
                ));
            }
        }
        let spec = match self.mode {
            RecoverMode::Rollback => "the backup",
            _ => "the decided spec",
        };
        out.push(format!("  will converge to {spec}:"));
        for o in &self.objects {
            let current = match &o.current_uid {
                Some(uid) => format!(" (there now: uid {uid})"),
                None => String::new(),
            };
            out.push(format!(
                "    {} {}: {}{current}",
                o.kind.name(),
                o.name,
                o.action.describe()
            ));
            let changes = match o.action {
                Action::Create | Action::WaitThenCreate => Vec::new(),
                Action::Keep | Action::Replace => o.against_current.clone(),
            };
            if o.current_uid.is_some() && o.action == Action::Replace && changes.is_empty() {
                out.push("      same spec as the object there now".into());
            }
            if !changes.is_empty() {
                out.push("      differences from the object there now:".into());
                push_changes(out, &changes);
            }
            if !o.against_journal.is_empty() {
                out.push(
                    "      the cluster copy differs from the journal's (journal used):".into(),
                );
                push_changes(out, &o.against_journal);
            }
        }
    }

    /// The plan as one JSON value (`-o json`).
    pub fn to_json(&self) -> Value {
        let changes = |c: &[crate::orchestrator::manifest::Change]| -> Vec<String> {
            c.iter().map(ToString::to_string).collect()
        };
        let source = match &self.source {
            super::Source::Cluster(copy) => json!({
                "foundIn": "cluster",
                "configMap": sanitize(&copy.path()),
                "writers": copy.managers.iter().map(|m| sanitize(m).into_owned()).collect::<Vec<_>>(),
                "createdAt": copy.created,
                "claimedHolder": sanitize(&self.record.holder),
                "verified": false,
            }),
            other => json!({
                "foundIn": other.word(),
                "verified": !self.unverified(),
                "takenOverFrom": self.record.adopted_from.as_deref().map(sanitize),
            }),
        };
        json!({
            "plan": {
                "op_id": self.record.id,
                "mode": self.mode.name(),
                "endpoint": self.endpoint.to_string(),
                "source": source,
                "state": self.record.state.name(),
                "deletes": self.deletes.iter().map(|d| json!({
                    "kind": d.kind, "namespace": d.namespace, "name": d.name, "uid": d.uid,
                })).collect::<Vec<_>>(),
                "verifyGone": self.verify_gone.len(),
                "objects": self.objects.iter().map(|o| json!({
                    "kind": o.kind.name(), "name": sanitize(&o.name),
                    "action": o.action.name(),
                    "currentUid": o.current_uid,
                    "againstCurrent": changes(&o.against_current),
                    "againstJournal": changes(&o.against_journal),
                })).collect::<Vec<_>>(),
                "ignored": self.ignored.iter().map(|s| sanitize(s).into_owned()).collect::<Vec<_>>(),
                "warnings": self.warnings.iter().map(|s| sanitize(s).into_owned()).collect::<Vec<_>>(),
                "problems": self.problems.iter().map(|s| sanitize(s).into_owned()).collect::<Vec<_>>(),
            }
        })
    }
}

fn push_changes(out: &mut Vec<String>, changes: &[crate::orchestrator::manifest::Change]) {
    for c in changes.iter().take(MAX_CHANGES) {
        out.push(format!("        {c}"));
    }
    if changes.len() > MAX_CHANGES {
        out.push(format!(
            "        ... and {} more",
            changes.len() - MAX_CHANGES
        ));
    }
}
