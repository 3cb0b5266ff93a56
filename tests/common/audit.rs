//! The simulator's audit log (`GET /sim/v1/audit?since=N`), read from a test: what a client
//! sent, and whether any of it could have changed the cluster.

use serde_json::Value;

use super::SimServer;

/// The simulator's audit log after `since`: its entries and its last sequence number.
pub fn audit_since(sim: &SimServer, since: u64) -> (Vec<Value>, u64) {
    let url = format!("{}/sim/v1/audit?since={since}", sim.url);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let body: Value = rt
        .block_on(async { reqwest::get(&url).await?.error_for_status()?.json().await })
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let items = body["items"].as_array().cloned().unwrap_or_default();
    let last = body["lastSeq"]
        .as_u64()
        .unwrap_or_else(|| panic!("no lastSeq in {body}"));
    (items, last)
}

/// One entry as a line: `#SEQ USER VERB METHOD PATH?QUERY -> CODE`.
pub fn audit_line(e: &Value) -> String {
    let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
    format!(
        "#{} {} {} {} {}{} -> {}",
        e["seq"],
        s("user"),
        s("verb"),
        s("method"),
        s("path"),
        if s("query").is_empty() {
            String::new()
        } else {
            format!("?{}", s("query"))
        },
        e["code"]
    )
}

/// Same rule as the simulator's `AuditEntry::is_mutating`: a write, except the access reviews
/// a client may post to ask what it would be allowed to do.
pub fn is_mutating(e: &Value) -> bool {
    let verb = e["verb"].as_str().unwrap_or("");
    let path = e["path"].as_str().unwrap_or("");
    matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    ) && !path.ends_with("/selfsubjectaccessreviews")
        && !path.ends_with("/selfsubjectrulesreviews")
}
