//! First-load import of res_mwi_external's mailboxes from astdb, so a site switching to
//! res_mwi_hub keeps every count. Runs once per store (remembered in the store's meta table);
//! astdb is left untouched, so switching back to res_mwi_external finds its records.

use crate::domain::store::{
    describe_import_error, parse_res_mwi_external_record, MailboxRecord, MailboxStore, Source, StoreError,
    RES_MWI_EXTERNAL_FAMILY,
};
use crate::host::astdb;
use crate::host::log::{ast_verb, ast_warning};

const IMPORTED_FLAG: &str = "res_mwi_external_imported";

/// Imports once; returns how many mailboxes were added (0 when already done).
pub fn import_res_mwi_external(store: &mut MailboxStore, now_ms: i64) -> Result<usize, StoreError> {
    if store.meta_get(IMPORTED_FLAG)?.is_some() {
        return Ok(0);
    }
    let mut records = Vec::new();
    let mut skipped = 0usize;
    for (key, value) in astdb::tree(RES_MWI_EXTERNAL_FAMILY) {
        match parse_res_mwi_external_record(&key, &value) {
            Ok((key, counts)) => match counts.first_unpublishable() {
                None => {
                    records.push(MailboxRecord { key, counts, source: Source::Import, updated_at_ms: now_ms })
                }
                Some((kind, value)) => {
                    skipped += 1;
                    ast_warning!(
                        "res_mwi_external mailbox '{key}' not imported: its {kind} count {value} cannot be published \
                         (res_mwi_external stored a negative count as 4294967295)"
                    );
                }
            },
            Err(e) => {
                skipped += 1;
                ast_warning!("{}", describe_import_error(&key, &e));
            }
        }
    }
    let found = records.len();
    let added = store.import(records)?;
    store.meta_set(IMPORTED_FLAG, &format!("{added} imported at {now_ms}"))?;
    if found + skipped > 0 {
        ast_verb!(
            1,
            "res_mwi_hub imported {added} mailboxes from res_mwi_external (astdb {RES_MWI_EXTERNAL_FAMILY}); {} already present, {skipped} invalid",
            found - added
        );
    }
    Ok(added)
}
