use std::sync::Arc;

use retrieval::Stores;

/// What every handler shares. Cloning is cheap.
#[derive(Clone)]
pub struct AppState {
    pub(crate) stores: Arc<Stores>,
    pub(crate) tenant: Arc<str>,
}

impl AppState {
    /// State over the stores, serving one tenant.
    pub fn new(stores: Stores, tenant: String) -> Self {
        AppState {
            stores: Arc::new(stores),
            tenant: tenant.into(),
        }
    }
}
