//! What config blocks (services: `logging`, `http`, …) apply, per controller: one value per
//! type, read by whoever serves it (the HTTP server reads the `http` block's settings for
//! every connection and request). A block that is removed is applied again as absent, which
//! restores its defaults.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Default)]
pub struct Services {
    slots: RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl Services {
    /// Replaces the current value of type `T`.
    pub fn set<T: Any + Send + Sync>(&self, value: T) {
        self.slots.write().unwrap_or_else(|e| e.into_inner()).insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The current value of type `T`; its `Default` until one is set.
    pub fn get<T: Any + Send + Sync + Default>(&self) -> Arc<T> {
        let found = self.slots.read().unwrap_or_else(|e| e.into_inner()).get(&TypeId::of::<T>()).cloned();
        found.and_then(|v| v.downcast::<T>().ok()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_by_type_with_defaults_until_set() {
        let s = Services::default();
        assert_eq!(*s.get::<u32>(), 0);
        s.set(7u32);
        s.set(String::from("x"));
        assert_eq!((*s.get::<u32>(), s.get::<String>().as_str()), (7, "x"));
    }
}
