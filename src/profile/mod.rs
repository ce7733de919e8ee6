//! Tuning profiles: YAML schema, validation with locations, inheritance, resolution against a node.
