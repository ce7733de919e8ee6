//! Tuning engine: plan (pure diff), apply with journal and rollback, history.
