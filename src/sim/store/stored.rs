//! One object as a table keeps it: its JSON, and its typed form where that is kept.

use std::sync::Arc;

use bytes::Bytes;

use super::precise;
use crate::sim::object::SimObject;
use crate::sim::status::ApiError;

/// One object as the table keeps it: always its JSON, which lists, gets and watches send as is
/// and the history shares, and the typed object only for kinds with `SimObject::TYPED`. Pods and
/// events, the kinds that number in the thousands, are kept as JSON alone and decoded when read: a
/// typed `Pod` takes ~9 KB of memory, its JSON ~3 KB.
///
/// JSON has whole-second times (`metav1.Time`), while the simulator's own readers (app models,
/// logs, ages, the kubelet) use the times as written, to the millisecond. So the sub-second parts
/// are kept beside the JSON (`nanos`) and put back on decoding: a decoded object equals the one
/// that was stored.
#[derive(Debug)]
pub struct Stored<T> {
    pub(super) json: Bytes,
    pub(super) obj: Option<Arc<T>>,
    pub(super) nanos: Option<Box<[u32]>>,
}

impl<T> Clone for Stored<T> {
    fn clone(&self) -> Self {
        Self {
            json: self.json.clone(),
            obj: self.obj.clone(),
            nanos: self.nanos.clone(),
        }
    }
}

impl<T: SimObject> Stored<T> {
    /// An object that is not in a table (a dry run's result).
    pub fn new(obj: Arc<T>) -> Self {
        Self {
            json: Bytes::from(serde_json::to_vec(&*obj).unwrap_or_default()),
            obj: Some(obj),
            nanos: None,
        }
    }

    /// The typed object: the one kept, or decoded from the JSON.
    pub fn obj(&self) -> Arc<T> {
        if let Some(obj) = &self.obj {
            return Arc::clone(obj);
        }
        // The JSON was serialized from a `T` by `commit`, so it always decodes.
        let mut obj: T = serde_json::from_slice(&self.json)
            .unwrap_or_else(|e| panic!("stored {} JSON does not decode: {e}", T::KIND));
        if let Some(nanos) = &self.nanos {
            precise::restore(&mut obj, nanos);
        }
        Arc::new(obj)
    }

    /// The object's JSON (as stored: apiVersion and kind of the storage version).
    pub fn json(&self) -> Bytes {
        self.json.clone()
    }

    /// The same object as the table keeps it: without the typed object unless `T::TYPED`.
    pub(super) fn lean(&self) -> Self {
        Self {
            json: self.json.clone(),
            obj: self.obj.clone().filter(|_| T::TYPED),
            nanos: self.nanos.clone(),
        }
    }

    /// The same object, with its typed form at hand (the caller has decoded it already).
    pub(super) fn with_obj(self, obj: Arc<T>) -> Self {
        Self {
            obj: Some(obj),
            ..self
        }
    }
}

/// Makes the stored form of an object that is being written.
pub(super) fn serialize<T: SimObject>(mut obj: T) -> Result<Stored<T>, ApiError> {
    let json = serde_json::to_vec(&obj)
        .map_err(|e| ApiError::internal(format!("cannot serialize {}: {e}", T::KIND)))?;
    // Typed kinds keep the object itself, times and all.
    let nanos = if T::TYPED {
        None
    } else {
        precise::nanos(&mut obj)
    };
    Ok(Stored {
        // A copy of exactly the JSON's size: the serializer's buffer grew by doubling, and the
        // store keeps thousands of these (allocators shrink a block in place, so no shrink_to_fit).
        json: Bytes::copy_from_slice(&json),
        obj: Some(Arc::new(obj)),
        nanos,
    })
}
