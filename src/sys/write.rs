//! Writers: every setting dpuctl changes goes through here.
