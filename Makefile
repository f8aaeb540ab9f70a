# wskit: the two commands a newcomer needs are `make demo` and `make test`.
.PHONY: all build demo test test-c header-check fuzz bench bench-deflate autobahn-full clean

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

# permessage-deflate against Node ws and Python websockets: CPU per message, wire bytes, idle bytes.
bench-deflate:
	bash bench/compare.sh --deflate

# Autobahn, every case in both roles, strictly (517 per role; all of 12.* and 13.* take most of
# the time: see docs/conformance.md). `make test` runs the documented subset (@core, @perf,
# @deflate-smoke).
autobahn-full:
	AUTOBAHN_STRICT=1 bash scripts/autobahn-server.sh @all
	AUTOBAHN_STRICT=1 bash scripts/autobahn-client.sh @all

clean:
	cargo clean
