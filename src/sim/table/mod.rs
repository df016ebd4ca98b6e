//! Server-side printing: the `meta.k8s.io/v1` `Table` the API server returns when a client
//! (kubectl get) asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
//!
//! The columns and cell logic follow kube-apiserver's `pkg/printers/internalversion/printers.go`.
//! The server always prints "wide" (every column, priority 1 included) and kubectl hides the
//! priority-1 columns unless `-o wide`, so every row here carries every cell.
//!
//! The printers see objects as the real server stores them, that is after API defaulting. Where a
//! printer reads a field the API server always defaults (replicas, a Service's type, a port's
//! protocol, an HPA's minReplicas and metrics) and the Rust object leaves it unset, the default
//! is used.

mod core;
mod pod;
mod workloads;

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, MicroTime, ObjectMeta, Time};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::duration::human_duration;

/// What each row's `object` holds, from the `includeObject` query parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncludeObject {
    /// `includeObject=None`: the row has no object (`"object": null`).
    None,
    /// The default: a `PartialObjectMetadata` carrying the object's whole `metadata`.
    #[default]
    Metadata,
    /// `includeObject=Object`: the whole object.
    Object,
}

impl IncludeObject {
    /// Parses the query parameter; absent or empty means [`IncludeObject::Metadata`].
    ///
    /// The error is the text of the real server's 400 (`ValidateTableOptions`).
    pub fn parse(s: Option<&str>) -> Result<Self, String> {
        match s.unwrap_or("") {
            "" | "Metadata" => Ok(Self::Metadata),
            "None" => Ok(Self::None),
            "Object" => Ok(Self::Object),
            other => Err(format!(
                "includeObject: Invalid value: {other:?}: must be 'Metadata', 'Object', 'None', or empty"
            )),
        }
    }
}

/// One `TableColumnDefinition`. Every field is always serialized, as Go does (no `omitempty`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: &'static str,
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub format: &'static str,
    pub description: &'static str,
    /// 0 for the default view, 1 for columns only `-o wide` shows.
    pub priority: i32,
}

impl Column {
    const fn new(name: &'static str, type_: &'static str, description: &'static str) -> Self {
        Self {
            name,
            type_,
            format: "",
            description,
            priority: 0,
        }
    }

    const fn wide(self) -> Self {
        Self {
            priority: 1,
            ..self
        }
    }

    const fn format(self, format: &'static str) -> Self {
        Self { format, ..self }
    }

    /// The `Name` column every printer starts with.
    const fn name() -> Self {
        Self::new("Name", "string", NAME_DESC).format("name")
    }

    /// The `Age` column (a string: the server renders the duration itself).
    const fn age() -> Self {
        Self::new("Age", "string", AGE_DESC)
    }
}

/// `metav1.ObjectMeta{}.SwaggerDoc()["name"]`.
const NAME_DESC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/// `metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]`.
const AGE_DESC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

const CONTAINERS_DESC: &str = "Names of each container in the template.";
const IMAGES_DESC: &str = "Images referenced by each container in the template.";

/// A kind that can be printed as a Table.
pub trait Printable: Serialize {
    /// Every column, wide ones included, in the server's order.
    fn column_definitions() -> Vec<Column>;

    /// One cell per column: JSON strings, or numbers where the Go printer puts an `int64`.
    fn cells(&self, now: Timestamp) -> Vec<Value>;

    /// The row's `conditions` (`TableRowCondition`s); only finished pods have any.
    fn row_conditions(&self) -> Vec<Value> {
        Vec::new()
    }
}

/// The bounds [`table`] needs: a printable Kubernetes object with standard metadata.
pub trait TableObject:
    Printable + k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta>
{
}

impl<T> TableObject for T where
    T: Printable + k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta>
{
}

/// The Table for a list response: columns, one row per item, and the list's `resourceVersion`
/// and `continue` token in `metadata`.
pub fn table<T: TableObject>(
    items: &[&T],
    now: Timestamp,
    include: IncludeObject,
    resource_version: &str,
    continue_token: Option<&str>,
) -> Value {
    let mut metadata = Map::new();
    if !resource_version.is_empty() {
        metadata.insert("resourceVersion".into(), resource_version.into());
    }
    if let Some(token) = continue_token.filter(|t| !t.is_empty()) {
        metadata.insert("continue".into(), token.into());
    }
    let rows = items.iter().map(|item| row(*item, now, include)).collect();
    assemble::<T>(metadata, true, rows)
}

/// The Table for one object: a GET of a single name, or one watch event.
///
/// `metadata.resourceVersion` is the object's own. A watch sends the column definitions only
/// with its first event; later events pass `headers: false` and carry `"columnDefinitions": null`.
pub fn table_for_object<T: TableObject>(
    item: &T,
    now: Timestamp,
    include: IncludeObject,
    headers: bool,
) -> Value {
    let mut metadata = Map::new();
    if let Some(rv) = item.metadata().resource_version.as_deref()
        && !rv.is_empty()
    {
        metadata.insert("resourceVersion".into(), rv.into());
    }
    assemble::<T>(metadata, headers, vec![row(item, now, include)])
}

/// The column definitions of `T` as JSON.
pub fn column_definitions_json<T: Printable>() -> Value {
    serde_json::to_value(T::column_definitions()).unwrap_or(Value::Null)
}

fn assemble<T: Printable>(metadata: Map<String, Value>, headers: bool, rows: Vec<Value>) -> Value {
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": if headers { column_definitions_json::<T>() } else { Value::Null },
        "rows": rows,
    })
}

/// One `TableRow`. Go serializes an empty `RawExtension` as `null` (its `omitempty` does not apply
/// to structs), so `includeObject=None` yields `"object": null` rather than no key.
fn row<T: TableObject>(item: &T, now: Timestamp, include: IncludeObject) -> Value {
    let mut row = Map::new();
    row.insert("cells".into(), Value::Array(item.cells(now)));
    let conditions = item.row_conditions();
    if !conditions.is_empty() {
        row.insert("conditions".into(), Value::Array(conditions));
    }
    let object = match include {
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": serde_json::to_value(item.metadata()).unwrap_or(Value::Null),
        }),
        IncludeObject::Object => serde_json::to_value(item).unwrap_or(Value::Null),
    };
    row.insert("object".into(), object);
    Value::Object(row)
}

// ---- cell helpers shared by the printers -------------------------------------------------

/// `translateTimestampSince`: the age of a timestamp, `<unknown>` when unset.
fn since(t: Option<&Time>, now: Timestamp) -> String {
    match t {
        Some(t) => human_duration(now.duration_since(t.0)),
        None => "<unknown>".to_owned(),
    }
}

/// `translateMicroTimestampSince`.
fn micro_since(t: Option<&MicroTime>, now: Timestamp) -> String {
    match t {
        Some(t) => human_duration(now.duration_since(t.0)),
        None => "<unknown>".to_owned(),
    }
}

/// The AGE cell of any object.
fn age(meta: &ObjectMeta, now: Timestamp) -> Value {
    since(meta.creation_timestamp.as_ref(), now).into()
}

fn name(meta: &ObjectMeta) -> Value {
    meta.name.clone().unwrap_or_default().into()
}

/// `labels.FormatLabels`: `k=v` pairs sorted by key, `<none>` when empty.
fn format_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    let s = labels
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    if s.is_empty() { "<none>".to_owned() } else { s }
}

/// `metav1.LabelSelectorAsSelector(sel).String()`: requirements sorted by key, set values sorted.
///
/// `Err` where Go's `NewRequirement` rejects the selector. Key and value syntax is not
/// re-validated: the store admits only valid selectors.
fn selector_string(sel: Option<&LabelSelector>) -> Result<String, ()> {
    let Some(sel) = sel else {
        return Ok(String::new());
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    for (k, v) in sel.match_labels.iter().flatten() {
        reqs.push((k.clone(), format!("{k}={v}")));
    }
    for expr in sel.match_expressions.iter().flatten() {
        let mut values = expr.values.clone().unwrap_or_default();
        values.sort();
        let key = &expr.key;
        let text = match expr.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => return Err(()),
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" | "DoesNotExist" if !values.is_empty() => return Err(()),
            "Exists" => key.clone(),
            "DoesNotExist" => format!("!{key}"),
            _ => return Err(()),
        };
        reqs.push((key.clone(), text));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(reqs
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(","))
}

/// `metav1.FormatLabelSelector`: like [`selector_string`] but `<none>` when empty and `<error>`
/// when invalid.
fn format_label_selector(sel: Option<&LabelSelector>) -> String {
    match selector_string(sel) {
        Ok(s) if s.is_empty() => "<none>".to_owned(),
        Ok(s) => s,
        Err(()) => "<error>".to_owned(),
    }
}

/// `layoutContainerCells`: container names and images, comma-joined.
fn layout_containers(containers: &[k8s_openapi::api::core::v1::Container]) -> (Value, Value) {
    let names: Vec<&str> = containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = containers
        .iter()
        .map(|c| c.image.as_deref().unwrap_or(""))
        .collect();
    (names.join(",").into(), images.join(",").into())
}

#[cfg(test)]
mod tests;
