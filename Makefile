# wskit: the two commands a newcomer needs are `make demo` and `make test`.
.PHONY: all build demo test fuzz bench clean

all: build

build:
	cargo build --release

demo: build
	cargo run --release --example proto_demo

test:
	bash scripts/test-all.sh

fuzz:
	bash scripts/fuzz-all.sh --seconds $${FUZZ_SECONDS:-30}

bench:
	cargo bench --bench micro

clean:
	cargo clean
