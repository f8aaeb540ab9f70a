# wskit: the two commands a newcomer needs are `make demo` and `make test`.
.PHONY: all build demo test test-c header-check fuzz bench clean

all: build

build:
	cargo build --release

demo:
	bash scripts/demo.sh

test:
	bash scripts/test-all.sh

# C ABI: C tests (shared, static, ASan+UBSan, valgrind), C examples, python peer. Also run by `cargo test`.
test-c:
	bash scripts/test-c.sh

# Fails when the committed include/wskit.h differs from what build.rs generates.
header-check:
	bash scripts/header-check.sh

fuzz:
	bash scripts/fuzz-all.sh --seconds $${FUZZ_SECONDS:-30}

bench:
	cargo bench --bench micro

clean:
	cargo clean
