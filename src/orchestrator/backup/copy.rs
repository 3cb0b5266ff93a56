//! Backup ConfigMaps as the cluster has them: the record inside, and what the apiserver itself
//! says about the ConfigMap (namespace, name, field managers, creation time). The record's
//! claims are the writer's; anybody who may create ConfigMaps can write one.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use kube::{Client, ResourceExt};

use super::{
    BackupError, MANAGED_BY, OPERATION_ANNOTATION, api_error, backup_name, parse, selector,
};
use crate::orchestrator::record::OpRecord;
use crate::text::sanitize;

/// A backup ConfigMap as found in the cluster: its record, and what the cluster itself says
/// about the ConfigMap (where it is, who wrote it, when). The record's claims are the writer's;
/// the metadata is the apiserver's.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupCopy {
    pub record: OpRecord,
    pub namespace: String,
    pub name: String,
    /// The operation annotation, if any.
    pub annotation: Option<String>,
    /// The field managers the cluster recorded (managedFields), in order.
    pub managers: Vec<String>,
    pub created: Option<String>,
}

impl BackupCopy {
    fn of(cm: &ConfigMap, record: OpRecord) -> BackupCopy {
        let mut managers: Vec<String> = Vec::new();
        for m in cm.metadata.managed_fields.iter().flatten() {
            if let Some(name) = &m.manager
                && !managers.contains(name)
            {
                managers.push(name.clone());
            }
        }
        BackupCopy {
            record,
            namespace: cm.namespace().unwrap_or_default(),
            name: cm.name_any(),
            annotation: cm.annotations().get(OPERATION_ANNOTATION).cloned(),
            managers,
            created: cm
                .metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string()),
        }
    }

    /// The operation it belongs to: the annotation, else the record's id.
    pub fn op_id(&self) -> &str {
        self.annotation.as_deref().unwrap_or(&self.record.id)
    }

    /// `NAMESPACE/NAME` of the ConfigMap.
    pub fn path(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Why this copy cannot speak for the endpoint it names: a backup lives in its endpoint's
    /// namespace under its endpoint's name, and names one operation.
    pub fn misplaced(&self) -> Option<String> {
        let rec = &self.record;
        let expected = backup_name(&rec.endpoint.name);
        let problem = if self.namespace != rec.endpoint.namespace {
            format!(
                "it lives in namespace {} but claims endpoint {}",
                self.namespace, rec.endpoint
            )
        } else if self.name != expected {
            format!(
                "it is named {} but the backup of endpoint {} is {expected}",
                self.name, rec.endpoint
            )
        } else if self.annotation.as_deref().is_some_and(|a| a != rec.id) {
            format!(
                "its annotation names operation {} but its record is operation {}",
                self.annotation.as_deref().unwrap_or_default(),
                rec.id
            )
        } else {
            return None;
        };
        Some(
            sanitize(&format!(
                "backup ConfigMap {}: {problem}; it speaks for no endpoint (inspect it with \
                 kubectl, delete it if nothing needs it)",
                self.path()
            ))
            .into_owned(),
        )
    }

    /// "found only in the cluster (ConfigMap NS/NAME), written by `M` (the cluster's
    /// managedFields), claims holder H (unverified), created T", sanitised.
    pub fn describe(&self, claimed_holder: &str) -> String {
        let writer = if self.managers.is_empty() {
            "an unknown writer (the cluster records no field manager)".to_string()
        } else {
            let list = self
                .managers
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let ours = self.managers.iter().filter(|m| *m == MANAGED_BY).count();
            let verdict = match ours {
                0 => format!(": not by {MANAGED_BY}"),
                n if n == self.managers.len() => String::new(),
                _ => format!(": not only by {MANAGED_BY}"),
            };
            format!("{list} (per the cluster's managedFields{verdict})")
        };
        let line = format!(
            "found only in the cluster (ConfigMap {}), written by {writer}, claims holder {} \
             (unverified), created {}",
            self.path(),
            claimed_holder,
            self.created.as_deref().unwrap_or("at an unknown time")
        );
        sanitize(&line).into_owned()
    }
}

/// Every backup in `namespace` (`None`: all namespaces) with what the cluster says about each,
/// newest first. Corrupt ones come back beside the others; only a failed list is an error.
pub async fn list_copies(
    client: &Client,
    namespace: Option<&str>,
) -> Result<(Vec<BackupCopy>, Vec<BackupError>), BackupError> {
    let api: Api<ConfigMap> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let scope = namespace.map_or("all namespaces".to_string(), |ns| format!("namespace {ns}"));
    let list = api
        .list(&ListParams::default().labels(&selector()))
        .await
        .map_err(|e| api_error(format!("list backup ConfigMaps in {scope}"), e))?;
    let mut copies = Vec::new();
    let mut errors = Vec::new();
    for cm in &list.items {
        match parse(cm) {
            Ok(r) => copies.push(BackupCopy::of(cm, r)),
            Err(e) => errors.push(e),
        }
    }
    copies.sort_by(|a, b| {
        b.record
            .started
            .cmp(&a.record.started)
            .then_with(|| b.record.id.cmp(&a.record.id))
    });
    Ok((copies, errors))
}

/// The backup ConfigMap of `endpoint` with its metadata, if there is one.
pub async fn read_copy(
    client: &Client,
    namespace: &str,
    endpoint: &str,
) -> Result<Option<BackupCopy>, BackupError> {
    let name = backup_name(endpoint);
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let cm = api
        .get_opt(&name)
        .await
        .map_err(|e| api_error(format!("read backup ConfigMap {namespace}/{name}"), e))?;
    match cm {
        None => Ok(None),
        Some(cm) => parse(&cm).map(|r| Some(BackupCopy::of(&cm, r))),
    }
}
