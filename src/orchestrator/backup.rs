//! The cluster copy of an operation's journal record: a ConfigMap
//! `llmops-console-backup-<endpoint>` in the endpoint's namespace, so an operation interrupted on
//! one machine can be recovered from another. One per endpoint: while it exists, the endpoint has
//! an unfinished operation, and no other operation may overwrite it.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams, Preconditions};
use kube::{Client, ResourceExt};

use super::record::OpRecord;
use crate::text::sanitize;

mod copy;
pub use copy::{BackupCopy, list_copies, read_copy};

pub const BACKUP_PREFIX: &str = "llmops-console-backup-";
/// The key holding the record, as JSON.
pub const DATA_KEY: &str = "operation.json";
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "llmops-console";
pub const ENDPOINT_LABEL: &str = "llmops.io/endpoint";
/// The operation a backup belongs to (the same annotation the lease carries).
pub const OPERATION_ANNOTATION: &str = "llmops.io/operation-id";
/// ConfigMaps hold at most 1 MiB; the apiserver refuses bigger ones.
const MAX_DATA_BYTES: usize = 1024 * 1024;
/// Attempts at a write or delete that raced with another writer before giving up.
const ATTEMPTS: usize = 3;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BackupError {
    /// A request failed; `what` names the request and the object, `code` is the HTTP status
    /// when the API answered (409: another operation's backup is there).
    #[error("{what}: {message}")]
    Api {
        what: String,
        message: String,
        code: Option<u16>,
    },
    #[error("backup ConfigMap {namespace}/{name} is unreadable: {message}")]
    Corrupt {
        namespace: String,
        name: String,
        message: String,
    },
    #[error(
        "backup of operation {op_id} is {bytes} bytes, over the 1 MiB a ConfigMap can hold: \
         the local journal has it, but no cluster copy can be made"
    )]
    TooLarge { op_id: String, bytes: usize },
}

impl BackupError {
    pub fn code(&self) -> Option<u16> {
        match self {
            BackupError::Api { code, .. } => *code,
            _ => None,
        }
    }
}

/// `llmops-console-backup-<endpoint>`, at most 253 characters (a ConfigMap name). Endpoint names
/// are DNS-1123 subdomains of up to 253 characters themselves; a name too long keeps its start
/// and gets a hash of the whole, so two long names never share a backup.
pub fn backup_name(endpoint: &str) -> String {
    const MAX: usize = 253;
    let full = format!("{BACKUP_PREFIX}{endpoint}");
    if full.len() <= MAX {
        return full;
    }
    let hash = format!("{:016x}", fnv1a(endpoint.as_bytes()));
    let room = MAX - BACKUP_PREFIX.len() - 1 - hash.len();
    // DNS names are ASCII; a non-ASCII name is invalid anyway, but must not panic on a cut.
    let cut: String = endpoint.chars().take(room).collect();
    let cut = cut.trim_end_matches(['-', '.']);
    format!("{BACKUP_PREFIX}{cut}-{hash}")
}

/// FNV-1a: stable across builds and platforms, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A label value is at most 63 characters ending in an alphanumeric; the record inside holds the
/// full name, the label only selects.
fn endpoint_label(endpoint: &str) -> String {
    let cut: String = endpoint.chars().take(63).collect();
    cut.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

fn api_error(what: String, e: kube::Error) -> BackupError {
    match e {
        kube::Error::Api(s) => BackupError::Api {
            what,
            message: sanitize(&s.message).into_owned(),
            code: Some(s.code),
        },
        other => BackupError::Api {
            what,
            message: sanitize(&other.to_string()).into_owned(),
            code: None,
        },
    }
}

fn is_status(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

/// The operation a backup belongs to: its annotation, else the id in its record.
fn owner_of(cm: &ConfigMap) -> Option<String> {
    cm.annotations()
        .get(OPERATION_ANNOTATION)
        .cloned()
        .or_else(|| parse(cm).ok().map(|r| r.id))
}

fn parse(cm: &ConfigMap) -> Result<OpRecord, BackupError> {
    let corrupt = |message: String| BackupError::Corrupt {
        namespace: sanitize(&cm.namespace().unwrap_or_default()).into_owned(),
        name: sanitize(&cm.name_any()).into_owned(),
        message,
    };
    let text = cm
        .data
        .as_ref()
        .and_then(|d| d.get(DATA_KEY))
        .ok_or_else(|| corrupt(format!("no data key {DATA_KEY}")))?;
    serde_json::from_str(text).map_err(|e| corrupt(sanitize(&e.to_string()).into_owned()))
}

fn refuse_other(namespace: &str, name: &str, owner: Option<&str>, mine: &str) -> BackupError {
    let message = match owner {
        Some(other) => {
            let other = sanitize(other);
            format!(
                "it holds the backup of unfinished operation {other}, not {mine}: finish or undo \
                 that one first (llmops-console recover {other} --resume or --rollback; \
                 --discard drops the backup and leaves the endpoint as it is); it is never \
                 overwritten"
            )
        }
        None => "it exists but names no operation (no annotation, unreadable record): inspect it \
                 with kubectl and delete it if nothing needs recovering"
            .to_string(),
    };
    BackupError::Api {
        what: format!("backup ConfigMap {namespace}/{name}"),
        message,
        code: Some(409),
    }
}

/// Creates the endpoint's backup ConfigMap from `rec`, or replaces it when it already belongs to
/// `rec.id` (resourceVersion-checked PUT). One that belongs to another operation is never
/// overwritten: that is a 409 naming the operation and `recover`.
pub async fn write_backup(client: &Client, rec: &OpRecord) -> Result<(), BackupError> {
    let namespace = rec.endpoint.namespace.as_str();
    let name = backup_name(&rec.endpoint.name);
    let json = serde_json::to_string(rec).map_err(|e| BackupError::Api {
        what: format!("encode the record of operation {}", rec.id),
        message: e.to_string(),
        code: None,
    })?;
    if json.len() > MAX_DATA_BYTES {
        return Err(BackupError::TooLarge {
            op_id: rec.id.clone(),
            bytes: json.len(),
        });
    }
    let mut cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([
                (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
                (
                    ENDPOINT_LABEL.to_string(),
                    endpoint_label(&rec.endpoint.name),
                ),
            ])),
            annotations: Some(BTreeMap::from([(
                OPERATION_ANNOTATION.to_string(),
                rec.id.clone(),
            )])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(DATA_KEY.to_string(), json)])),
        ..ConfigMap::default()
    };
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    // The manager the cluster records in managedFields: a cluster-only backup is labelled with
    // it, so one written by anything else stands out.
    let pp = PostParams {
        field_manager: Some(MANAGED_BY.to_string()),
        ..PostParams::default()
    };
    let what = |verb: &str| format!("{verb} backup ConfigMap {namespace}/{name}");
    for _ in 0..ATTEMPTS {
        cm.metadata.resource_version = None;
        match api.create(&pp, &cm).await {
            Ok(_) => return Ok(()),
            Err(e) if is_status(&e, 409) => {}
            Err(e) => return Err(api_error(what("create"), e)),
        }
        let Some(existing) = api
            .get_opt(&name)
            .await
            .map_err(|e| api_error(what("read"), e))?
        else {
            continue; // deleted in between: create again
        };
        let owner = owner_of(&existing);
        if owner.as_deref() != Some(rec.id.as_str()) {
            return Err(refuse_other(namespace, &name, owner.as_deref(), &rec.id));
        }
        cm.metadata.resource_version = existing.resource_version();
        match api.replace(&name, &pp, &cm).await {
            Ok(_) => return Ok(()),
            // Changed or deleted since read: read again.
            Err(e) if is_status(&e, 409) || is_status(&e, 404) => {}
            Err(e) => return Err(api_error(what("replace"), e)),
        }
    }
    Err(BackupError::Api {
        what: what("write"),
        message: format!("it kept changing under us ({ATTEMPTS} attempts)"),
        code: Some(409),
    })
}

fn selector() -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY},{ENDPOINT_LABEL}")
}

/// Every backup in `namespace` (`None`: all namespaces), newest first. Corrupt ones come back
/// beside the others; only a failed list is an error.
pub async fn list_backups(
    client: &Client,
    namespace: Option<&str>,
) -> Result<(Vec<OpRecord>, Vec<BackupError>), BackupError> {
    let (copies, errors) = list_copies(client, namespace).await?;
    Ok((copies.into_iter().map(|c| c.record).collect(), errors))
}

/// The backup of `endpoint`, if there is one.
pub async fn read_backup(
    client: &Client,
    namespace: &str,
    endpoint: &str,
) -> Result<Option<OpRecord>, BackupError> {
    Ok(read_copy(client, namespace, endpoint)
        .await?
        .map(|c| c.record))
}

/// Deletes the backup of `endpoint` when it belongs to `op_id` (the delete carries its uid as a
/// precondition, so one recreated meanwhile by another operation stays). Already gone is Ok; one
/// of another operation is a 409 and stays.
pub async fn delete_backup(
    client: &Client,
    namespace: &str,
    endpoint: &str,
    op_id: &str,
) -> Result<(), BackupError> {
    let name = backup_name(endpoint);
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let what = |verb: &str| format!("{verb} backup ConfigMap {namespace}/{name}");
    for _ in 0..ATTEMPTS {
        let Some(existing) = api
            .get_opt(&name)
            .await
            .map_err(|e| api_error(what("read"), e))?
        else {
            return Ok(());
        };
        let owner = owner_of(&existing);
        if owner.as_deref() != Some(op_id) {
            return Err(refuse_other(namespace, &name, owner.as_deref(), op_id));
        }
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                uid: existing.uid(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&name, &dp).await {
            Ok(_) => return Ok(()),
            Err(e) if is_status(&e, 404) => return Ok(()),
            // Replaced by another object since read: look again.
            Err(e) if is_status(&e, 409) => {}
            Err(e) => return Err(api_error(what("delete"), e)),
        }
    }
    Err(BackupError::Api {
        what: what("delete"),
        message: format!("it kept changing under us ({ATTEMPTS} attempts)"),
        code: Some(409),
    })
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::orchestrator::manifest::sim_tests::{NS, start_sim};
    use crate::orchestrator::progress::{OpKind, Step};
    use crate::orchestrator::record::{EndpointId, OpState};

    fn record(id: &str, endpoint: &str) -> OpRecord {
        let t = Timestamp::now();
        OpRecord {
            id: id.to_string(),
            kind: OpKind::Redeploy,
            endpoint: EndpointId {
                namespace: NS.into(),
                name: endpoint.into(),
                mode: None,
            },
            holder: "ops@host/1".into(),
            context: "sim".into(),
            server: "http://127.0.0.1".into(),
            cluster_uid: None,
            started: t,
            updated: t,
            state: OpState::Running,
            step: Step::Snapshot,
            backup: vec![serde_json::json!({"kind": "Deployment", "metadata": {"name": endpoint}})],
            old_objects: Vec::new(),
            decided: None,
            overrides: Vec::new(),
            created: Vec::new(),
            steps: Vec::new(),
            adopted_from: None,
            result: None,
        }
    }

    fn is_dns_subdomain(s: &str) -> bool {
        s.len() <= 253
            && s.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    }

    #[test]
    fn backup_names_fit_a_configmap_name() {
        assert_eq!(backup_name("llama-3"), "llmops-console-backup-llama-3");
        let long = format!("{}.{}", "a".repeat(200), "b".repeat(52));
        assert_eq!(long.len(), 253);
        let n = backup_name(&long);
        assert!(n.len() <= 253, "{}", n.len());
        assert!(n.starts_with("llmops-console-backup-aaaa"));
        assert!(is_dns_subdomain(&n), "{n}");
        let other = format!("{}.{}", "a".repeat(200), "c".repeat(52));
        assert_ne!(backup_name(&other), n, "long names differ by their hash");
        // A cut that ends in '.' or '-' is trimmed so the name stays valid.
        let dotted = format!("{}.{}", "a".repeat(229), "b".repeat(23));
        assert!(is_dns_subdomain(&backup_name(&dotted)));
        assert_eq!(endpoint_label(&"ab-".repeat(30)).len(), 62);
        assert_eq!(endpoint_label("web"), "web");
    }

    #[tokio::test]
    async fn write_read_list_delete() {
        let (sim, client) =
            start_sim(Some("name: t\ndescription: t\nnamespaces: [test, other]\n")).await;
        assert_eq!(read_backup(&client, NS, "web").await, Ok(None));
        let mut rec = record("redeploy-web-1", "web");
        write_backup(&client, &rec).await.expect("write");
        assert_eq!(read_backup(&client, NS, "web").await, Ok(Some(rec.clone())));

        let api: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
        let cm = api
            .get("llmops-console-backup-web")
            .await
            .expect("configmap");
        assert_eq!(
            cm.labels().get(MANAGED_BY_LABEL).map(String::as_str),
            Some("llmops-console")
        );
        assert_eq!(
            cm.labels().get(ENDPOINT_LABEL).map(String::as_str),
            Some("web")
        );
        assert_eq!(
            cm.annotations()
                .get(OPERATION_ANNOTATION)
                .map(String::as_str),
            Some("redeploy-web-1")
        );

        // The same operation updates its own backup.
        rec.step = Step::Delete;
        write_backup(&client, &rec).await.expect("rewrite");
        assert_eq!(read_backup(&client, NS, "web").await, Ok(Some(rec.clone())));

        // Another endpoint, another namespace, and a corrupt backup: listed and reported.
        write_backup(&client, &record("redeploy-llm-2", "llm"))
            .await
            .expect("write llm");
        let mut elsewhere = record("redeploy-web-3", "web");
        elsewhere.endpoint.namespace = "other".into();
        write_backup(&client, &elsewhere)
            .await
            .expect("write other");
        let mut broken = cm.clone();
        broken.metadata = ObjectMeta {
            name: Some(backup_name("broken")),
            labels: cm.metadata.labels.clone(),
            ..ObjectMeta::default()
        };
        broken.data = Some(BTreeMap::from([(
            DATA_KEY.to_string(),
            "{not json".to_string(),
        )]));
        api.create(&PostParams::default(), &broken)
            .await
            .expect("broken");

        let (records, errors) = list_backups(&client, Some(NS)).await.expect("list");
        let mut ids: Vec<_> = records.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["redeploy-llm-2", "redeploy-web-1"]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            matches!(&errors[0], BackupError::Corrupt { namespace, name, .. } if namespace == NS && name == "llmops-console-backup-broken"),
            "{errors:?}"
        );
        let (all, _) = list_backups(&client, None).await.expect("list all");
        assert_eq!(all.len(), 3);

        delete_backup(&client, NS, "web", "redeploy-web-1")
            .await
            .expect("delete");
        assert_eq!(read_backup(&client, NS, "web").await, Ok(None));
        // Already gone is fine.
        delete_backup(&client, NS, "web", "redeploy-web-1")
            .await
            .expect("delete again");
        // An unreadable backup is not anyone's to delete.
        let e = delete_backup(&client, NS, "broken", "x")
            .await
            .expect_err("no owner");
        assert_eq!(e.code(), Some(409));
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn another_operations_backup_is_never_overwritten_or_deleted() {
        let (sim, client) = start_sim(Some("name: t\ndescription: t\nnamespaces: [test]\n")).await;
        let first = record("redeploy-web-1", "web");
        write_backup(&client, &first).await.expect("write");

        let e = write_backup(&client, &record("redeploy-web-2", "web"))
            .await
            .expect_err("refused");
        assert_eq!(e.code(), Some(409));
        let text = e.to_string();
        assert!(
            text.contains("redeploy-web-1") && text.contains("recover"),
            "{text}"
        );
        assert_eq!(
            read_backup(&client, NS, "web").await,
            Ok(Some(first.clone()))
        );

        let e = delete_backup(&client, NS, "web", "redeploy-web-2")
            .await
            .expect_err("wrong op");
        assert_eq!(e.code(), Some(409));
        assert!(e.to_string().contains("redeploy-web-1"), "{e}");
        assert_eq!(read_backup(&client, NS, "web").await, Ok(Some(first)));
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn records_too_big_for_a_configmap_are_refused_before_sending() {
        let (sim, client) = start_sim(Some("name: t\ndescription: t\nnamespaces: [test]\n")).await;
        let mut rec = record("redeploy-web-1", "web");
        rec.backup = vec![serde_json::json!({"blob": "x".repeat(MAX_DATA_BYTES)})];
        let e = write_backup(&client, &rec).await.expect_err("too large");
        assert!(matches!(e, BackupError::TooLarge { .. }), "{e:?}");
        assert_eq!(read_backup(&client, NS, "web").await, Ok(None));
        sim.shutdown().await;
    }
}
