//! `compute` for each shipped policy; the target is under 10 µs a call.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use jubao::rewards::policy::{compute, Grade, Input, PolicySet};

fn bench(c: &mut Criterion) {
    let set = match PolicySet::built_in() {
        Ok(set) => set,
        Err(e) => panic!("shipped policies: {e}"),
    };
    for p in set.policies() {
        let input = Input {
            verified_fen: 250_000_000,
            insider: true,
            grade: Some(Grade::B),
            heavy: true,
            no_loss_amount_fen: None,
        };
        c.bench_function(&format!("compute/{}", p.id), |b| {
            b.iter(|| compute(black_box(p), black_box(&input)))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
