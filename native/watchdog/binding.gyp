{
  "targets": [
    {
      "target_name": "watchdog",
      "sources": ["watchdog.cc"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-std=c++17", "-Wno-cast-function-type"]
    }
  ]
}
