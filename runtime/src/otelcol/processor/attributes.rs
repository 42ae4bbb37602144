use std::sync::Arc;
use crate::component::{Component, ComponentError, Context};
pub fn build(_ctx: Context, _args: eval::Value) -> Result<Arc<dyn Component>, ComponentError> {
    Err(ComponentError("not yet".into()))
}
