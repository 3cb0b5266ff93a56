//! Server-side printing: the `meta.k8s.io` `Table` a client gets for get, list and watch when its
//! Accept header asks for `application/json;as=Table;v=v1;g=meta.k8s.io` (kubectl get does).
//!
//! As the apiserver: the columns are the printer columns of the kind (all of them, the wide ones
//! with priority 1, so `kubectl get -o wide` only hides less); each row's `object` is the object's
//! `PartialObjectMetadata` unless `includeObject=Object` (the whole object) or `None`; a watch
//! sends one Table per event with one row and column definitions only in its first event.

mod columns;
mod pod;
mod printers;
#[cfg(test)]
mod tests;

use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use super::query::Query;
use crate::sim::error::ApiError;
use crate::sim::kinds::ResourceType;

/// One `TableColumnDefinition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// `string`, `integer`, `date`, ...
    pub ty: &'static str,
    /// `name` for the column holding the object's name, else empty.
    pub format: &'static str,
    pub description: &'static str,
    /// 0: always shown; 1: only with `-o wide`.
    pub priority: u8,
}

impl Column {
    fn to_json(self) -> Value {
        json!({
            "name": self.name,
            "type": self.ty,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

pub const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
pub const AGE_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The `Name` column every printer starts with.
pub const NAME: Column = Column {
    name: "Name",
    ty: "string",
    format: "name",
    description: NAME_DESCRIPTION,
    priority: 0,
};

/// The `Age` column of the built-in printers (a string such as `5m`).
pub const AGE: Column = Column {
    name: "Age",
    ty: "string",
    format: "",
    description: AGE_DESCRIPTION,
    priority: 0,
};

/// What goes into each row's `object` (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Include {
    None,
    Metadata,
    Object,
}

/// A request for Table output: the Table's group version and what each row carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableOptions {
    /// `meta.k8s.io/v1` or `meta.k8s.io/v1beta1`, as the Accept header asked.
    pub api_version: &'static str,
    pub include: Include,
}

/// Whether the request asks for a Table: the first clause of its Accept header that the server
/// can answer decides (kubectl sends `...;as=Table;v=v1;g=meta.k8s.io,...;v=v1beta1...,
/// application/json`). `includeObject` is checked only then, as the apiserver does.
pub fn requested(headers: &HeaderMap, query: &Query) -> Result<Option<TableOptions>, ApiError> {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let Some(api_version) = table_version(&accept) else {
        return Ok(None);
    };
    let include = match query.get("includeObject") {
        None | Some("Metadata") => Include::Metadata,
        Some("Object") => Include::Object,
        Some("None") => Include::None,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Unable to convert to Table as requested: includeObject: Unsupported value: {other:?}: supported values: \"\", \"Metadata\", \"None\", \"Object\""
            )));
        }
    };
    Ok(Some(TableOptions {
        api_version,
        include,
    }))
}

/// The Table group version the first answerable Accept clause names, or `None` when that clause
/// is a plain media type (or nothing asks for a Table).
pub fn table_version(accept: &str) -> Option<&'static str> {
    for clause in accept.split(',') {
        let mut parts = clause.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        if !matches!(
            media.as_str(),
            "application/json" | "application/*" | "*/*" | ""
        ) {
            continue; // protobuf, yaml, ...: the simulator answers JSON, try the next clause
        }
        let (mut as_kind, mut group, mut version) = (None, None, None);
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                let v = v.trim().trim_matches('"');
                match k.trim() {
                    "as" => as_kind = Some(v),
                    "g" => group = Some(v),
                    "v" => version = Some(v),
                    _ => {}
                }
            }
        }
        match (as_kind, group, version) {
            (None, _, _) if !media.is_empty() => return None,
            (None, _, _) => continue,
            (Some("Table"), Some("meta.k8s.io"), Some("v1")) => return Some("meta.k8s.io/v1"),
            (Some("Table"), Some("meta.k8s.io"), Some("v1beta1")) => {
                return Some("meta.k8s.io/v1beta1");
            }
            _ => continue, // a conversion the simulator does not offer: try the next clause
        }
    }
    None
}

/// The column definitions the apiserver prints `rt` with.
pub fn columns(rt: &ResourceType) -> &'static [Column] {
    match rt.plural {
        "pods" => pod::COLUMNS,
        _ => columns::columns(rt),
    }
}

/// The cells of one object's row, one per column of [`columns`].
pub fn cells(rt: &ResourceType, obj: &Value, now: jiff::Timestamp) -> Vec<Value> {
    match rt.plural {
        "pods" => pod::cells(obj, now),
        _ => printers::cells(rt, obj, now),
    }
}

/// `PartialObjectMetadata` of an object in the Table's group version.
pub fn partial_metadata(obj: &Value, api_version: &str) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": api_version,
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn row(rt: &ResourceType, obj: &Value, opts: TableOptions, now: jiff::Timestamp) -> Value {
    let mut row = json!({ "cells": cells(rt, obj, now) });
    if rt.plural == "pods"
        && let Some(conditions) = pod::row_conditions(obj)
    {
        row["conditions"] = conditions;
    }
    row["object"] = match opts.include {
        Include::Metadata => partial_metadata(obj, opts.api_version),
        Include::Object => obj.clone(),
        Include::None => Value::Null,
    };
    row
}

/// A Table of `objects`. `metadata` is the list metadata (resourceVersion, continue,
/// remainingItemCount) or, for one object, its resourceVersion. Without `headers` the column
/// definitions are `null`, as in every watch event after the first.
pub fn build<'a>(
    rt: &ResourceType,
    objects: impl IntoIterator<Item = &'a Value>,
    opts: TableOptions,
    headers: bool,
    metadata: Value,
    now: jiff::Timestamp,
) -> Value {
    let column_definitions = if headers {
        Value::Array(columns(rt).iter().map(|c| c.to_json()).collect())
    } else {
        Value::Null
    };
    let rows: Vec<Value> = objects.into_iter().map(|o| row(rt, o, opts, now)).collect();
    json!({
        "kind": "Table",
        "apiVersion": opts.api_version,
        "metadata": metadata,
        "columnDefinitions": column_definitions,
        "rows": rows,
    })
}

/// A Table with the one row of `obj` (get, and each watch event).
pub fn for_object(
    rt: &ResourceType,
    obj: &Value,
    opts: TableOptions,
    headers: bool,
    now: jiff::Timestamp,
) -> Value {
    let mut md = json!({});
    if let Some(rv) = obj.pointer("/metadata/resourceVersion") {
        md["resourceVersion"] = rv.clone();
    }
    build(rt, [obj], opts, headers, md, now)
}

/// A Table of an autoscaling/v1 `Scale` (`kubectl get deploy/x --subresource=scale`).
pub fn for_scale(scale: &Value, opts: TableOptions) -> Value {
    let defs = columns::SCALE_COLUMNS;
    let cells = json!([
        crate::sim::meta::name(scale),
        scale
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0),
        scale
            .pointer("/status/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0),
    ]);
    let object = match opts.include {
        Include::Metadata => partial_metadata(scale, opts.api_version),
        Include::Object => scale.clone(),
        Include::None => Value::Null,
    };
    let mut md = json!({});
    if let Some(rv) = scale.pointer("/metadata/resourceVersion") {
        md["resourceVersion"] = rv.clone();
    }
    json!({
        "kind": "Table",
        "apiVersion": opts.api_version,
        "metadata": md,
        "columnDefinitions": defs.iter().map(|c| c.to_json()).collect::<Vec<_>>(),
        "rows": [{"cells": cells, "object": object}],
    })
}

/// Time since `timestamp` as the apiserver prints ages (`duration.HumanDuration`): `45s`, `5m3s`,
/// `2h10m`, `3d4h`, `2y10d`; `<unknown>` without a timestamp.
pub fn age(timestamp: Option<&str>, now: jiff::Timestamp) -> String {
    match timestamp.and_then(crate::sim::meta::parse_time) {
        Some(t) => human_duration(now.as_second() - t.as_second()),
        None => "<unknown>".to_string(),
    }
}

/// `k8s.io/apimachinery/pkg/util/duration.HumanDuration` for whole seconds.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}
