//! The `livedebugging` config block: `enabled` switches the controller's live-debugging hub
//! (`runtime/src/livedebugging`). Turning it off, or removing the block, ends the debug
//! streams; graph streams keep counting since they need no rendering.

use eval::Value;

use crate::component::{Arguments, ComponentError, Reader, Registration, Services};
use crate::livedebugging::Hub;

/// `livedebugging { enabled = bool }`.
#[derive(Default)]
pub struct LiveDebuggingArgs {
    enabled: bool,
}

impl Arguments for LiveDebuggingArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        LiveDebuggingArgs { enabled: r.get("enabled") }
    }
}

pub const REGISTRATION: Registration = Registration::config::<LiveDebuggingArgs>("livedebugging", apply);

fn apply(services: &Services, args: Option<&Value>) -> Result<(), ComponentError> {
    let enabled = match args {
        Some(v) => crate::component::args::decode_checked::<LiveDebuggingArgs>("livedebugging", v)?.enabled,
        None => false,
    };
    services.get::<Hub>().set_enabled(enabled);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_switches_the_hub_and_removing_it_turns_it_off() {
        let services = Services::default();
        services.set(Hub::default());
        let on = crate::component::args::evaluated("livedebugging {\n  enabled = true\n}\n").expect("evaluates");
        apply(&services, Some(&on)).expect("applies");
        assert!(services.get::<Hub>().enabled());
        apply(&services, None).expect("applies");
        assert!(!services.get::<Hub>().enabled());
    }
}
