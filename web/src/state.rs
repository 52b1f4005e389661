use std::sync::Arc;

use retrieval::TextStore;

/// What every handler shares. Cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    pub(crate) store: Arc<TextStore>,
    pub(crate) tenant: Arc<str>,
}

impl AppState {
    /// State over a store, serving one tenant.
    pub fn new(store: TextStore, tenant: String) -> Self {
        AppState {
            store: Arc::new(store),
            tenant: tenant.into(),
        }
    }
}
