// The object the tests precompiled header is built with (tests/pch/test_pch.h).
