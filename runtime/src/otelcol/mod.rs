pub fn registrations() -> Vec<crate::component::Registration> {
    Vec::new()
}
