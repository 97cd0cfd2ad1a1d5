//! The module itself: what `load_module` builds and `unload_module` tears down.

use crate::admin;
use crate::host::cli::CliRegistration;
use crate::host::log::ast_verb;
use crate::host::module::{asterisk_module, AsteriskModule, LoadError, ModuleRef};
use crate::host::mwi::MwiSubscription;
use crate::sys;

/// Everything the loaded module holds. Dropping it (or `unload`) undoes every registration.
pub struct Hub {
    cli: CliRegistration,
    watcher: MwiSubscription,
}

impl AsteriskModule for Hub {
    fn load(module: ModuleRef) -> Result<Self, LoadError> {
        let watcher = MwiSubscription::subscribe(Box::new(admin::watch::on_state))
            .ok_or_else(|| LoadError::Failure("could not subscribe to the MWI topic".into()))?;
        let cli = CliRegistration::register(admin::commands(), module).map_err(LoadError::Failure)?;
        ast_verb!(2, "res_mwi_hub {} loaded", env!("CARGO_PKG_VERSION"));
        Ok(Self { cli, watcher })
    }

    fn reload(&mut self) -> Result<(), String> {
        ast_verb!(2, "res_mwi_hub reloaded (nothing to configure yet)");
        Ok(())
    }

    fn unload(self, module: ModuleRef) -> Result<(), (Self, String)> {
        let Self { cli, watcher } = self;
        if let Err(cli) = cli.unregister(module) {
            return Err((Self { cli, watcher }, "a CLI command of ours is still in use".into()));
        }
        // Returns only after the last callback has finished.
        drop(watcher);
        Ok(())
    }
}

asterisk_module! {
    type: Hub,
    name: c"res_mwi_hub",
    description: c"MWI hub: external mailboxes, incoming MWI NOTIFYs and MWI state tools",
    // Early enough that states are on the bus before channel drivers notify phones.
    load_priority: sys::AST_MODPRI_CHANNEL_DEPEND as u8,
    support_level: sys::AST_MODULE_SUPPORT_EXTENDED,
    requires: None,
}
