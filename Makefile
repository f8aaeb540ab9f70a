# wskit: the two commands a newcomer needs are `make demo` and `make test`.
.PHONY: all build demo test fuzz bench clean

all: build

build:
	cargo build --release

demo:
	bash scripts/demo.sh

test:
	bash scripts/test-all.sh

fuzz:
	bash scripts/fuzz-all.sh --seconds $${FUZZ_SECONDS:-30}

bench:
	cargo bench --bench micro

clean:
	cargo clean
