//! `otelcol.storage.file`: a directory for exporters' persistent sending queues. It exports
//! `handler` (`otelcol.Handler`), which an exporter names in `sending_queue { storage = ... }`;
//! the exporter then keeps each queued request in a file there until it is sent, so a restart
//! (or a crash) sends what was queued before (`runtime/src/delivery/storage.rs`).

use std::path::PathBuf;
use std::sync::Arc;

use eval::{Object, Value};

use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};
use crate::delivery::storage::StorageDir;

const NAME: &str = "otelcol.storage.file";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["handler"], build);

#[derive(Default)]
pub struct Args {
    directory: Option<String>,
    create_directory: bool,
    permissions: u32,
    fsync: bool,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        // bbolt's lock timeout and compaction have nothing to act on: each request is a file.
        r.unsupported(&["timeout", "compaction", "debug_metrics"]);
        let text: String = r.get("directory_permissions");
        let permissions = match u32::from_str_radix(&text, 8) {
            Ok(p) if p <= 0o7777 => p,
            _ => {
                r.error("directory_permissions", format!("invalid directory permissions {text:?}: expected octal digits such as \"0750\""));
                0o750
            }
        };
        Args { directory: r.opt("directory"), create_directory: r.get("create_directory"), permissions, fsync: r.get("fsync") }
    }
}

struct FileStorage {
    ctx: Context,
}

impl FileStorage {
    /// Makes the directory ready and publishes the handler.
    fn publish(&self, args: &Value) -> Result<(), ComponentError> {
        let a: Args = decode_checked(NAME, args)?;
        // Without a directory, the component's own data directory under --storage.path.
        let dir = a.directory.filter(|d| !d.is_empty()).map(PathBuf::from).unwrap_or_else(|| self.ctx.data_path().to_path_buf());
        if a.create_directory {
            std::fs::create_dir_all(&dir).map_err(|e| ComponentError(format!("cannot create directory {}: {e}", dir.display())))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(a.permissions))
                    .map_err(|e| ComponentError(format!("cannot set the permissions of {}: {e}", dir.display())))?;
            }
        } else if !dir.is_dir() {
            return Err(ComponentError(format!("directory {} does not exist (set create_directory = true to create it)", dir.display())));
        }
        let handler = StorageDir { component_id: self.ctx.id().to_string(), dir, fsync: a.fsync };
        let mut exports = Object::ordered();
        exports.insert("handler", Value::Capsule(eval::Capsule::new(handler)));
        self.ctx.set_exports(Value::object(exports));
        Ok(())
    }
}

impl Component for FileStorage {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        self.publish(&args)
    }
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let c = FileStorage { ctx };
    c.publish(&args)?;
    Ok(Arc::new(c))
}
