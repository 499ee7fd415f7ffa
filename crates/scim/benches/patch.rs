fn main() {} // placeholder until the protocol benchmarks land
