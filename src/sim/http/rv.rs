//! The `resourceVersion` of a get, list or watch, answered as the apiserver answers it when the
//! version is not a number or lies in the future.
//!
//! - Not a number: the versioner's `strconv.ParseUint` error. Reads served by the watch cache
//!   (gets, watches, lists without a limit) pass it through unconverted: 500 with no reason.
//!   Lists handed to etcd (`resourceVersionMatch=Exact`, or a limit with a legacy exact
//!   resourceVersion) wrap it in 400 `invalid resource version: ...`.
//! - In the future: the watch cache waits up to 3 s for it (`blockTimeout`), then answers 504
//!   `Timeout: Too large resource version: X, current: Y` with the cause
//!   `ResourceVersionTooLarge` and `retryAfterSeconds: 1`. etcd answers such a list at once,
//!   without the retry hint. A plain watch from the future is accepted and stays silent until
//!   the store passes that version; with `sendInitialEvents` it waits like a list and ends in an
//!   ERROR event carrying that 504.

use serde_json::json;

use super::ApiRequest;
use super::query::Query;
use crate::sim::error::ApiError;
use crate::sim::selectors::validation::go_quote;
use crate::sim::store::Store;

/// `resourceVersionTooHighRetrySeconds`.
const RETRY_SECONDS: u64 = 1;

/// `APIObjectVersioner.ParseResourceVersion`: unset and "0" are 0; otherwise an unsigned decimal
/// (Go's `ParseUint` takes no sign). The error is the field error the apiserver prints.
pub fn parse(raw: Option<&str>) -> Result<u64, String> {
    let raw = match raw {
        None | Some("") | Some("0") => return Ok(0),
        Some(r) => r,
    };
    let why = if raw.bytes().all(|b| b.is_ascii_digit()) {
        match raw.parse::<u64>() {
            Ok(v) => return Ok(v),
            Err(_) => "value out of range",
        }
    } else {
        "invalid syntax"
    };
    let q = go_quote(raw);
    Err(format!(
        "resourceVersion: Invalid value: {q}: strconv.ParseUint: parsing {q}: {why}"
    ))
}

/// The answer when the watch cache cannot parse the version: passed through, 500 unknown.
pub fn unparsable(message: String) -> ApiError {
    ApiError::new(500, "", message)
}

/// `storage.NewTooLargeResourceVersionError`.
pub fn too_large(requested: u64, current: u64, retry: Option<u64>) -> ApiError {
    let mut details = json!({"causes": [{
        "reason": "ResourceVersionTooLarge",
        "message": "Too large resource version",
    }]});
    if let Some(r) = retry {
        details["retryAfterSeconds"] = json!(r);
    }
    let mut e = ApiError::new(
        504,
        "Timeout",
        format!("Timeout: Too large resource version: {requested}, current: {current}"),
    )
    .with_details(details);
    e.retry_after = retry;
    e
}

/// Waits until the store has reached `rv` or its block timeout (3 s, as the watch cache's)
/// passed; whether it did.
pub async fn wait_for(store: &Store, rv: u64) -> bool {
    let mut rx = store.subscribe();
    let deadline = tokio::time::Instant::now() + store.rv_block_timeout();
    loop {
        if store.current_rv() >= rv {
            return true;
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Err(_) => return store.current_rv() >= rv,
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                return store.current_rv() >= rv;
            }
            Ok(_) => {}
        }
    }
}

/// Whether a list goes to etcd rather than the watch cache (`shouldDelegateList`).
fn delegated(q: &Query) -> Result<bool, ApiError> {
    let rv = q.get("resourceVersion").unwrap_or("");
    let limit = q.int("limit")?.filter(|l| *l > 0);
    Ok(match q.get("resourceVersionMatch").unwrap_or("") {
        "Exact" => true,
        // Match with continue is refused by validate_list_options before this.
        "NotOlderThan" => false,
        "" => (limit.is_some() && !rv.is_empty() && rv != "0") || q.get("continue").is_some(),
        _ => true,
    })
}

/// Checks the resourceVersion of a get or list before it is served, waiting for a future one
/// as the watch cache does. Other verbs pass.
pub async fn gate(store: &Store, req: &ApiRequest) -> Result<(), ApiError> {
    let q = &req.query;
    let raw = q.get("resourceVersion");
    let from_etcd = match req.verb {
        "list" => {
            q.validate_list_options(false)?;
            delegated(q)?
        }
        "get" => false,
        _ => return Ok(()),
    };
    let rv = match parse(raw) {
        Ok(rv) => rv,
        Err(m) if from_etcd => {
            return Err(ApiError::bad_request(format!(
                "invalid resource version: {m}"
            )));
        }
        Err(m) => return Err(unparsable(m)),
    };
    if from_etcd && q.get("continue").is_some() && rv > 0 {
        return Err(ApiError::bad_request(
            "specifying resource version is not allowed when using continue",
        ));
    }
    let current = store.current_rv();
    if rv <= current {
        return Ok(());
    }
    if from_etcd {
        return Err(too_large(rv, current, None));
    }
    if wait_for(store, rv).await {
        return Ok(());
    }
    Err(too_large(rv, store.current_rv(), Some(RETRY_SECONDS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_as_go_parses_them() {
        assert_eq!(parse(None), Ok(0));
        assert_eq!(parse(Some("0")), Ok(0));
        assert_eq!(parse(Some("0042")), Ok(42));
        assert_eq!(
            parse(Some("abc")).unwrap_err(),
            "resourceVersion: Invalid value: \"abc\": strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
        assert!(parse(Some("+1")).unwrap_err().ends_with("invalid syntax"));
        assert!(parse(Some("-1")).unwrap_err().ends_with("invalid syntax"));
        assert!(
            parse(Some("99999999999999999999"))
                .unwrap_err()
                .ends_with("parsing \"99999999999999999999\": value out of range")
        );
    }

    #[test]
    fn too_large_is_a_timeout_with_its_cause() {
        let body = too_large(100, 5, Some(1)).status_body();
        assert_eq!(
            body,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "message": "Timeout: Too large resource version: 100, current: 5",
                   "reason": "Timeout", "code": 504,
                   "details": {"causes": [{"reason": "ResourceVersionTooLarge",
                                           "message": "Too large resource version"}],
                               "retryAfterSeconds": 1}})
        );
        assert_eq!(too_large(100, 5, None).retry_after, None);
        let unknown = unparsable("m".into()).status_body();
        assert!(unknown.get("reason").is_none() && unknown.get("details").is_none());
    }

    #[tokio::test]
    async fn waiting_ends_when_the_store_gets_there() {
        use crate::sim::kinds::NAMESPACES;
        use std::time::Duration;
        let store = Store::new(1);
        let target = store.current_rv() + 1;
        let writer = store.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = writer.create(
                &NAMESPACES,
                "",
                json!({"metadata": {"name": "n"}}),
                &Default::default(),
            );
        });
        assert!(wait_for(&store, target).await);
    }
}
