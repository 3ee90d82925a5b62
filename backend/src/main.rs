fn main() {
    println!("backend: not yet implemented");
}
