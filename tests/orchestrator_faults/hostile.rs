//! The hostile columns of the matrix: what other people (another holder, a ConfigMap writer, a
//! holder whose clock is wrong) do to an operation at each step.
//!
//! - lock refused: kill -9 at the step, another host takes the lease; `recover --resume` is refused
//!   (exit 3) and must keep the backup and the listing; once the lease is free it finishes.
//! - planted backup: kill -9 at the step, then a hostile writer replaces the backup ConfigMap with
//!   a record that names objects of other namespaces and a privileged Deployment (or, when the
//!   kill came before any journal, plants a made-up operation): recovery touches nothing outside
//!   the endpoint and creates nothing that is not the endpoint's.
//! - skewed holder clock: while the operation runs, its lease's renewTime is set 10 minutes into
//!   the past (as a holder with a slow clock writes it); a second console must not take over.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::orchestrator::DEADLINE;
use crate::orchestrator::cluster::{Cluster, K};
use crate::orchestrator::console::{Console, Run};
use crate::orchestrator::endpoint::{SpecIs, State};
use crate::{assert_backed_up, assert_end, ep, lost_so_far, redeploy_args, spawn};

/// A console killed with -9 at a step, and what the test needs after it.
pub struct Killed {
    pub c: Cluster,
    pub con: Console,
    pub before: State,
    pub op: String,
    pub runs: Vec<Run>,
}

/// Starts a cell's simulator and a redeploy, and kills it with -9 once `step` starts.
pub fn kill_at(step: &str, what: &str) -> Killed {
    let c = Cluster::start(&crate::orchestrator::scenario("faults"));
    let con = Console::new(&c);
    let before = ep().wait_ready(&c, DEADLINE);
    let mut running = spawn(&con, &redeploy_args());
    let line = running.wait_step(step, DEADLINE).unwrap_or_else(|| {
        panic!(
            "{what}: the redeploy ended before {step}:\n{}",
            running.stderr()
        )
    });
    let killed = running.kill9();
    let op = serde_json::from_str::<Value>(&line).expect("JSON progress")["op_id"]
        .as_str()
        .expect("op_id")
        .to_string();
    Killed {
        c,
        con,
        before,
        op,
        runs: vec![killed],
    }
}

/// Whether `recover --list` shows `op`, and the entry.
pub fn listed(con: &Console, op: &str, runs: &mut Vec<Run>) -> Option<Value> {
    let list = con.run(&["recover", "--list", "-o", "json"], DEADLINE);
    list.expect_code(0);
    let entry = list
        .result()
        .as_array()
        .and_then(|a| a.iter().find(|u| u["id"] == op).cloned());
    runs.push(list);
    entry
}

pub fn explain(runs: &[Run]) -> String {
    runs.iter()
        .map(|r| r.explain())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Steps a kill in which leaves nothing deleted.
pub fn before_delete(step: &str) -> bool {
    matches!(step, "lock" | "preflight" | "snapshot")
}

/// Killed before the first journal write: nothing may have changed.
fn assert_unchanged(k: &Killed, what: &str) {
    assert!(
        lost_so_far(&k.before, &ep().read(&k.c)).is_empty(),
        "{what}: the killed operation changed the cluster but `recover --list` does not show it\n{}",
        explain(&k.runs)
    );
}

fn uid_of(v: &Option<Value>) -> Option<String> {
    v.as_ref()
        .and_then(|o| o["metadata"]["uid"].as_str())
        .map(str::to_string)
}

/// A MicroTime as the apiserver writes it, `offset` from now.
fn micro_time(offset: jiff::SignedDuration) -> String {
    let t = jiff::Timestamp::now()
        .checked_add(offset)
        .unwrap_or_else(|_| jiff::Timestamp::now());
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

const LEASE_PATH: &str = "/apis/coordination.k8s.io/v1/namespaces/orch/leases";

/// Changes the endpoint's lease with `edit` (create it from `edit(default)` when absent),
/// re-reading on conflicts.
fn edit_lease(c: &Cluster, what: &str, edit: impl Fn(&mut Value)) {
    for _ in 0..10 {
        let current = c.lease("orch", "ep");
        let mut lease = current.clone().unwrap_or_else(|| {
            json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                   "metadata": {"name": "llmops-console-ep", "namespace": "orch"},
                   "spec": {"leaseDurationSeconds": 15}})
        });
        edit(&mut lease);
        let (code, body) = match current {
            Some(_) => c.request(
                Method::PUT,
                &format!("{LEASE_PATH}/llmops-console-ep"),
                Some(&lease),
            ),
            None => c.request(Method::POST, LEASE_PATH, Some(&lease)),
        };
        match code {
            200 | 201 => return,
            404 | 409 => continue,
            _ => panic!("{what}: cannot write the lease: {code} {body}"),
        }
    }
    panic!("{what}: the lease kept changing under the test");
}

/// Another host's console takes the endpoint's lease (live, renewed just now).
fn foreign_lease(c: &Cluster, what: &str) {
    edit_lease(c, what, |l| {
        l["spec"]["holderIdentity"] = json!("bob@ops-host-2/4242");
        l["spec"]["leaseDurationSeconds"] = json!(15);
        l["spec"]["acquireTime"] = json!(micro_time(jiff::SignedDuration::ZERO));
        l["spec"]["renewTime"] = json!(micro_time(jiff::SignedDuration::ZERO));
        l["metadata"]["annotations"] = json!({
            "llmops.io/operation-id": "force-delete-ep-20261204T000000000Z-4242",
            "llmops.io/step": "verify-deletion",
        });
    });
}

pub fn lock_refused_cell(step: &'static str) -> String {
    let what = format!("{step} x lock-refused");
    let mut k = kill_at(step, &what);
    if listed(&k.con, &k.op, &mut k.runs).is_none() {
        assert_unchanged(&k, &what);
        let refs: Vec<&Run> = k.runs.iter().collect();
        return format!(
            "K unlisted {}",
            assert_end(&k.c, &k.before, SpecIs::Old, &what, &refs)
        );
    }
    let backup_before = uid_of(&k.c.backup("orch", "ep"));
    foreign_lease(&k.c, &what);
    let refused = k.con.run(
        &["recover", &k.op, "--resume", "--yes", "-o", "json"],
        DEADLINE,
    );
    let code = refused.code;
    k.runs.push(refused);
    assert_eq!(
        code,
        Some(3),
        "{what}: recover with the lease held by another host\n{}",
        explain(&k.runs)
    );
    assert_eq!(
        uid_of(&k.c.backup("orch", "ep")),
        backup_before,
        "{what}: the refused recover changed the backup ConfigMap\n{}",
        explain(&k.runs)
    );
    assert!(
        listed(&k.con, &k.op, &mut k.runs).is_some(),
        "{what}: after the refusal `recover --list` no longer shows the operation\n{}",
        explain(&k.runs)
    );
    assert_backed_up(&k.c, &k.con, &k.op, &k.before, &what);
    // The other holder is done.
    let (code, body) = k.c.request(
        Method::DELETE,
        &format!("{LEASE_PATH}/llmops-console-ep"),
        None,
    );
    assert!(
        matches!(code, 200 | 404),
        "{what}: lease delete: {code} {body}"
    );
    let rec = k.con.run(
        &["recover", &k.op, "--resume", "--yes", "-o", "json"],
        DEADLINE,
    );
    let ok = rec.code == Some(0);
    k.runs.push(rec);
    assert!(
        ok,
        "{what}: recover --resume after the lease was freed\n{}",
        explain(&k.runs)
    );
    let want = if before_delete(step) {
        SpecIs::Old
    } else {
        SpecIs::New
    };
    let refs: Vec<&Run> = k.runs.iter().collect();
    format!(
        "K 3, --resume {}",
        assert_end(&k.c, &k.before, want, &what, &refs)
    )
}

/// Objects of other namespaces and of no endpoint, named in the planted record.
fn plant_victims(c: &Cluster, what: &str) -> Vec<Value> {
    let (code, body) = c.request(
        Method::POST,
        "/api/v1/namespaces",
        Some(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})),
    );
    assert!(
        matches!(code, 201 | 409),
        "{what}: namespace: {code} {body}"
    );
    let mut out = Vec::new();
    for ns in ["other", "orch"] {
        let svc = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "victim", "namespace": ns},
            "spec": {"selector": {"app": "victim"}, "ports": [{"port": 80}]}});
        let (code, body) = c.request(
            Method::POST,
            &format!("/api/v1/namespaces/{ns}/services"),
            Some(&svc),
        );
        assert_eq!(code, 201, "{what}: victim service in {ns}: {body}");
        out.push(body);
    }
    out
}

fn privileged_deployment(name: &str, ns: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {"llm-ops.io/endpoint": name}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"hostNetwork": true, "hostPID": true,
                    "containers": [{"name": "x", "image": "evil.example/miner:6.6.6",
                        "securityContext": {"privileged": true}}],
                    "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}}})
}

/// A record that deletes `victims` and creates privileged Deployments, on top of `base` (the
/// operation's own journal record) or made up.
fn hostile_record(base: Option<Value>, op: &str, victims: &[Value]) -> Value {
    let mut rec = base.unwrap_or_else(|| {
        json!({"id": op, "kind": "redeploy",
            "endpoint": {"namespace": "orch", "name": "ep", "mode": "Raw"},
            "holder": "mallory@evil-host/1", "context": "sim", "server": "https://evil.example",
            "started": "2026-12-04T00:00:00Z", "updated": "2026-12-04T00:00:00Z",
            "state": "needs-recovery", "step": "verify-deletion",
            "backup": [], "old_objects": [], "overrides": [], "created": [], "steps": []})
    });
    let mut manifests = vec![
        privileged_deployment("ep", "orch"),
        privileged_deployment("evil", "other"),
    ];
    if let Some(a) = rec["backup"].as_array() {
        manifests.extend(a.iter().filter(|m| m["kind"] != "Deployment").cloned());
    }
    rec["backup"] = json!(manifests.clone());
    rec["decided"] = json!(manifests);
    let mut old = rec["old_objects"].as_array().cloned().unwrap_or_default();
    for v in victims {
        old.push(json!({"kind": "Service",
            "namespace": v["metadata"]["namespace"], "name": v["metadata"]["name"],
            "uid": v["metadata"]["uid"]}));
    }
    rec["old_objects"] = json!(old);
    rec
}

/// Writes `rec` as the endpoint's backup ConfigMap, replacing whatever is there.
fn plant_backup(c: &Cluster, rec: &Value, what: &str) {
    let path = "/api/v1/namespaces/orch/configmaps";
    for _ in 0..10 {
        let current = c.backup("orch", "ep");
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "llmops-console-backup-ep", "namespace": "orch",
                "labels": {"app.kubernetes.io/managed-by": "llmops-console",
                           "llmops.io/endpoint": "ep"},
                "annotations": {"llmops.io/operation-id": rec["id"]}},
            "data": {"operation.json": rec.to_string()}});
        let (code, body) = match &current {
            Some(cur) => {
                cm["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"].clone();
                c.request(
                    Method::PUT,
                    &format!("{path}/llmops-console-backup-ep"),
                    Some(&cm),
                )
            }
            None => c.request(Method::POST, path, Some(&cm)),
        };
        match code {
            200 | 201 => return,
            404 | 409 => continue,
            _ => panic!("{what}: cannot plant the backup: {code} {body}"),
        }
    }
    panic!("{what}: the backup ConfigMap kept changing under the test");
}

/// Nothing outside the endpoint was touched and nothing hostile was created.
fn assert_contained(c: &Cluster, victims: &[Value], what: &str, runs: &[Run]) {
    for v in victims {
        let ns = v["metadata"]["namespace"].as_str().unwrap_or("");
        let now = c.get(K::Service, ns, "victim");
        assert!(
            now.as_ref()
                .is_some_and(|o| o["metadata"]["uid"] == v["metadata"]["uid"]
                    && o["metadata"]["deletionTimestamp"].is_null()),
            "{what}: the recovery touched Service {ns}/victim, which is not the endpoint's\n{}",
            explain(runs)
        );
    }
    for ns in ["orch", "other"] {
        assert!(
            c.get(K::Deployment, ns, "evil").is_none(),
            "{what}: the recovery created the planted Deployment {ns}/evil\n{}",
            explain(runs)
        );
    }
    if let Some(d) = c.get(K::Deployment, "orch", "ep") {
        let image = d
            .pointer("/spec/template/spec/containers/0/image")
            .and_then(Value::as_str)
            .unwrap_or("");
        assert!(
            !image.contains("evil"),
            "{what}: the endpoint runs the planted image {image}\n{}",
            explain(runs)
        );
    }
}

/// A write by admin that changes something other than the lock and the record.
fn mutations_since(c: &Cluster, since: u64) -> Vec<String> {
    let (audit, _) = c.audit_since(since);
    audit
        .iter()
        .filter(|e| {
            matches!(
                e["verb"].as_str(),
                Some("create" | "update" | "patch" | "delete")
            )
        })
        .filter(|e| {
            let p = e["path"].as_str().unwrap_or("");
            !p.contains("/leases") && !p.contains("/events")
        })
        .map(|e| format!("{} {} -> {}", e["verb"], e["path"], e["code"]))
        .collect()
}

pub fn planted_cell(step: &'static str) -> String {
    let what = format!("{step} x planted-backup");
    let mut k = kill_at(step, &what);
    let victims = plant_victims(&k.c, &what);
    // At lock there is no backup yet: a made-up operation is planted in its place (always, so
    // the cluster-only path is taken whether or not the journal was written before the kill).
    let own = step != "lock" && listed(&k.con, &k.op, &mut k.runs).is_some();
    let journal = k.con.journal_dir().join(format!("{}.json", k.op));
    let base = (own && journal.is_file()).then(|| k.con.journal(&k.op));
    let op = if own {
        k.op.clone()
    } else {
        "redeploy-ep-20261204T000000000Z-4242".to_string()
    };
    plant_backup(&k.c, &hostile_record(base, &op, &victims), &what);
    let entry = listed(&k.con, &op, &mut k.runs).unwrap_or_else(|| {
        panic!(
            "{what}: the planted backup is not listed\n{}",
            explain(&k.runs)
        )
    });
    let mut note = String::new();
    if !own {
        // Made up: found only in the cluster, and never acted on without confirmation.
        let found = entry["foundIn"].as_str().unwrap_or("").to_string();
        assert!(
            found.contains("cluster") && !found.contains("journal"),
            "{what}: a planted backup must be labelled as found only in the cluster: {entry}"
        );
        let since = k.c.audit_seq();
        let unconfirmed = k
            .con
            .run(&["recover", &op, "--resume", "-o", "json"], DEADLINE);
        let code = unconfirmed.code;
        k.runs.push(unconfirmed);
        assert_eq!(
            code,
            Some(2),
            "{what}: recover of a planted backup without --yes\n{}",
            explain(&k.runs)
        );
        let wrote = mutations_since(&k.c, since);
        assert!(
            wrote.is_empty(),
            "{what}: unconfirmed recover wrote {wrote:?}"
        );
        note.push_str("2, ");
    }
    let since = k.c.audit_seq();
    let rec = k.con.run(
        &["recover", &op, "--resume", "--yes", "-o", "json"],
        DEADLINE,
    );
    let code = rec.code.unwrap_or(-1);
    k.runs.push(rec);
    assert_contained(&k.c, &victims, &what, &k.runs);
    if !own {
        assert_ne!(
            code,
            0,
            "{what}: a recovery of foreign manifests must be refused\n{}",
            explain(&k.runs)
        );
        let wrote = mutations_since(&k.c, since);
        assert!(
            wrote.iter().all(|w| w.contains("/configmaps")),
            "{what}: the refused recovery wrote {wrote:?}"
        );
    } else {
        assert_eq!(
            code,
            0,
            "{what}: the journal's record must win over the planted copy\n{}",
            explain(&k.runs)
        );
    }
    note.push_str(&format!("{code}"));
    if k.c.backup("orch", "ep").is_some() {
        // What recovery would not act on stays until it is discarded, explicitly.
        let d = k.con.run(
            &["recover", &op, "--discard", "--yes", "-o", "json"],
            DEADLINE,
        );
        let ok = d.code == Some(0);
        k.runs.push(d);
        assert!(ok, "{what}: discard\n{}", explain(&k.runs));
        note.push_str(", discard");
    }
    let want = if own && !before_delete(step) {
        SpecIs::New
    } else {
        SpecIs::Old
    };
    let refs: Vec<&Run> = k.runs.iter().collect();
    format!(
        "K {note} {}",
        assert_end(&k.c, &k.before, want, &what, &refs)
    )
}

/// `ops2`: another operator with every permission, its own kubeconfig and machine.
fn second_operator(c: &Cluster) -> (Console, tempfile::TempDir) {
    c.admin(
        Method::PUT,
        "users/ops2",
        Some(json!([{"verbs": ["*"], "resources": ["*"]}])),
    );
    let dir = tempfile::tempdir().expect("kubeconfig dir");
    let text = std::fs::read_to_string(&c.sim.kubeconfig).expect("kubeconfig");
    let path = dir.path().join("ops2.kubeconfig");
    std::fs::write(&path, text.replace("admin-token", "ops2-token")).expect("write kubeconfig");
    let mut con = Console::new(c);
    con.kubeconfig = path;
    (con, dir)
}

pub fn skew_cell(step: &'static str) -> String {
    let what = format!("{step} x skewed-clock");
    let c = Cluster::start(&crate::orchestrator::scenario("faults"));
    let con = Console::new(&c);
    let (con2, _dir) = second_operator(&c);
    let before = ep().wait_ready(&c, DEADLINE);
    let mut first = spawn(&con, &redeploy_args());
    assert!(
        first.wait_step(step, DEADLINE).is_some(),
        "{what}: the redeploy ended before {step}\n{}",
        first.stderr()
    );
    let t = Instant::now();
    while c.lease("orch", "ep").is_none() {
        assert!(t.elapsed() < DEADLINE, "{what}: no lease");
        std::thread::sleep(Duration::from_millis(20));
    }
    let since = c.audit_seq();
    // The holder's clock is 10 minutes slow: its renewTime looks long expired.
    edit_lease(&c, &what, |l| {
        l["spec"]["renewTime"] = json!(micro_time(jiff::SignedDuration::from_mins(-10)));
    });
    let second = con2.run(
        &redeploy_args()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        DEADLINE,
    );
    let first = first.finish(DEADLINE);
    let runs = vec![first.clone(), second.clone()];
    assert_eq!(
        first.code,
        Some(0),
        "{what}: the holder's operation must go on\n{}",
        explain(&runs)
    );
    let (audit, _) = c.audit_since(since);
    let is_lease = |e: &&Value| {
        e["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("/leases/llmops-console-ep") || p.ends_with("/leases"))
    };
    let released = audit
        .iter()
        .filter(is_lease)
        .find(|e| e["user"] == "admin" && e["verb"] == "delete")
        .and_then(|e| e["seq"].as_u64());
    let taken: Vec<u64> = audit
        .iter()
        .filter(is_lease)
        .filter(|e| e["user"] == "ops2")
        .filter(|e| matches!(e["verb"].as_str(), Some("create" | "update" | "patch")))
        .filter(|e| e["code"].as_u64().is_some_and(|c| c < 300))
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    let early: Vec<&u64> = taken
        .iter()
        .filter(|s| released.is_none_or(|r| **s < r))
        .collect();
    assert!(
        early.is_empty(),
        "{what}: the second console took the lease (audit seq {early:?}) while its holder was alive (released at {released:?})\n{}",
        explain(&runs)
    );
    let code = second.code.unwrap_or(-1);
    assert!(
        code == 3 || (code == 0 && !taken.is_empty()),
        "{what}: the second console exited {code}\n{}",
        explain(&runs)
    );
    let refs: Vec<&Run> = runs.iter().collect();
    format!(
        "0, 2nd {code} {}",
        assert_end(&c, &before, SpecIs::New, &what, &refs)
    )
}
