fn main() {
    println!("bootstrap: under construction");
}
