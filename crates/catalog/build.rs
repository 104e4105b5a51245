// `sqlx::migrate!` embeds ./migrations at compile time; without this a new
// migration file does not rebuild the crate (the binary would miss it).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
