# bench/module.mk - side-by-side benchmark programs (built by bench/run.sh,
# never by `all` or `check`).
BENCH_FETCH := $(BUILD)/bench/bench_fetch

$(BENCH_FETCH): bench/bench_fetch.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(STD) $(CFLAGS) $(TEST_WARN) $(LIB_CPPFLAGS) $(LDFLAGS) -o $@ bench/bench_fetch.c \
	  $(LIB_A) $(PKG_LIBS) -lpthread
