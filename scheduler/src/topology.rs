//! Node label values as columns by node position, so the plugins that count per topology domain
//! read a node's domain with one array load instead of a map lookup per node.

use ahash::AHashMap;

use crate::selector::Labels;

/// A node without the label.
pub const NONE: u32 = u32::MAX;

/// One label key: the value id of each node (by position), and the values by id.
#[derive(Clone, Debug, Default)]
pub struct Column {
    /// The value id of node `i`, `NONE` where the node lacks the label.
    pub values: Vec<u32>,
    /// Value strings by id. Ids are never reused.
    pub names: Vec<String>,
    ids: AHashMap<String, u32>,
}

impl Column {
    fn id(&mut self, value: &str) -> u32 {
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(NONE - 1);
        self.names.push(value.to_string());
        self.ids.insert(value.to_string(), id);
        id
    }

    /// The id of `value`, if any node has (had) it.
    pub fn id_of(&self, value: &str) -> Option<u32> {
        self.ids.get(value).copied()
    }
}

/// Every label key seen on any node, as a column.
#[derive(Clone, Debug, Default)]
pub struct LabelIndex {
    columns: AHashMap<String, Column>,
    len: usize,
}

impl LabelIndex {
    /// The column of `key`, if any node has had that label.
    pub fn column(&self, key: &str) -> Option<&Column> {
        self.columns.get(key)
    }

    /// Appends a node at position `len`.
    pub fn push(&mut self, labels: &Labels) {
        for column in self.columns.values_mut() {
            column.values.push(NONE);
        }
        self.len += 1;
        self.set(self.len - 1, &Labels::new(), labels);
    }

    /// Replaces the labels of the node at `at`.
    pub fn set(&mut self, at: usize, old: &Labels, new: &Labels) {
        for key in old.keys().filter(|k| !new.contains_key(*k)) {
            if let Some(column) = self.columns.get_mut(key) {
                column.values[at] = NONE;
            }
        }
        let len = self.len;
        for (key, value) in new {
            let column = self
                .columns
                .entry(key.clone())
                .or_insert_with(|| Column { values: vec![NONE; len], ..Column::default() });
            let id = column.id(value);
            column.values[at] = id;
        }
    }

    /// Removes the node at `at`, moving the last node there (as `Vec::swap_remove`).
    pub fn swap_remove(&mut self, at: usize) {
        for column in self.columns.values_mut() {
            column.values.swap_remove(at);
        }
        self.len -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn columns_follow_nodes_as_they_come_change_and_go() {
        let mut index = LabelIndex::default();
        index.push(&labels(&[("zone", "a")]));
        index.push(&labels(&[("zone", "b"), ("disk", "ssd")]));
        index.push(&labels(&[]));
        let zone = index.column("zone").expect("zone column");
        assert_eq!(zone.values, vec![0, 1, NONE]);
        assert_eq!(index.column("disk").expect("disk").values, vec![NONE, 0, NONE]);
        index.set(2, &labels(&[]), &labels(&[("zone", "a")]));
        index.swap_remove(0);
        let zone = index.column("zone").expect("zone column");
        assert_eq!(zone.values, vec![0, 1]);
        assert_eq!(zone.names[zone.values[0] as usize], "a");
        index.set(0, &labels(&[("zone", "a")]), &labels(&[]));
        assert_eq!(index.column("zone").expect("zone").values[0], NONE);
    }
}
