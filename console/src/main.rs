fn main() {
    println!("opsconsole: under construction");
}
