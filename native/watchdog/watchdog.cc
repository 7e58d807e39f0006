/*
 * The sidecar's watchdog as a native thread instead of a worker: a worker's isolate costs 8-10 MiB
 * of RSS in every sidecar, this thread a few pages (docs/benchmarks.md, "Sidecar memory").
 *
 * start(hook, thresholdMs, checkMs) starts the thread; beat() is called by a timer on the main
 * thread. When no beat came for thresholdMs, the thread asks V8 to interrupt the main thread
 * (Isolate::RequestInterrupt runs a callback between two JavaScript instructions, even inside an
 * endless loop, which is what the inspector does for the worker version), and the callback calls
 * hook(blockedMs) in the interrupted context, so the hook sees which plugin and request were
 * running. If the interrupt does not land within a second (the thread is stuck outside
 * JavaScript), the watchdog writes what it knows and kills the process. stop() ends the thread.
 * V8's C++ API is used because Node-API has no interrupt; the addon is built against the running
 * Node's own headers (scripts/postbuild.mjs).
 */
#include <node.h>
#include <v8.h>

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace {

using v8::Context;
using v8::Function;
using v8::FunctionCallbackInfo;
using v8::Global;
using v8::HandleScope;
using v8::Isolate;
using v8::Local;
using v8::Number;
using v8::Object;
using v8::TryCatch;
using v8::Value;

constexpr int64_t kInterruptGraceMs = 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Watch {
  Isolate* isolate = nullptr;
  Global<Context> context;
  Global<Function> hook;
  std::atomic<int64_t> beat{0};
  int64_t threshold_ms = 0;
  int64_t check_ms = 0;
  bool stopping = false;  // guarded by mutex
  std::mutex mutex;
  std::condition_variable wake;
};

// One watchdog per process; never freed while its thread may run (the thread is detached).
Watch* current = nullptr;

void WriteAll(int fd, const char* text, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, text, length);
    if (n <= 0) return;
    text += n;
    length -= static_cast<size_t>(n);
  }
}

// Runs on the main thread, between two JavaScript instructions.
void OnInterrupt(Isolate* isolate, void* data) {
  Watch* w = static_cast<Watch*>(data);
  if (w->hook.IsEmpty()) return;
  HandleScope scope(isolate);
  Local<Context> context = w->context.Get(isolate);
  Context::Scope context_scope(context);
  TryCatch try_catch(isolate);
  Local<Value> argv[] = {Number::New(isolate, static_cast<double>(NowMs() - w->beat.load()))};
  // the hook exits the process; a result or an exception is nothing to act on here
  if (w->hook.Get(isolate)->Call(context, v8::Undefined(isolate), 1, argv).IsEmpty()) return;
}

void Fallback(int64_t blocked_ms) {
  char stamp[32];
  time_t now = time(nullptr);
  struct tm utc;
  gmtime_r(&now, &utc);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
  char line[512];
  int n = snprintf(line, sizeof line,
                   "{\"time\":\"%s\",\"level\":\"error\",\"msg\":\"sidecar unresponsive: event loop blocked for %lld ms "
                   "(the main thread did not take the interrupt: stuck outside JavaScript); exiting for a restart\"}\n",
                   stamp, static_cast<long long>(blocked_ms));
  if (n > 0) WriteAll(1, line, static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1);
  n = snprintf(line, sizeof line,
               "sidecar: watchdog: event loop blocked for %lld ms (the main thread did not take the interrupt: stuck outside JavaScript)\n",
               static_cast<long long>(blocked_ms));
  if (n > 0) WriteAll(2, line, static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1);
  kill(getpid(), SIGKILL);
}

void Run(Watch* w) {
  std::unique_lock<std::mutex> lock(w->mutex);
  int64_t last = NowMs();
  while (!w->stopping) {
    w->wake.wait_for(lock, std::chrono::milliseconds(w->check_ms));
    if (w->stopping) break;
    int64_t now = NowMs();
    // this thread did not run either (the machine was suspended or starved): no verdict this round
    bool late = now - last > w->check_ms * 4;
    last = now;
    if (late) continue;
    if (now - w->beat.load() < w->threshold_ms) continue;
    w->isolate->RequestInterrupt(OnInterrupt, w);
    w->wake.wait_for(lock, std::chrono::milliseconds(kInterruptGraceMs));
    if (w->stopping) break;
    Fallback(NowMs() - w->beat.load());
  }
}

void Beat(const FunctionCallbackInfo<Value>& args) {
  (void)args;
  if (current != nullptr) current->beat.store(NowMs());
}

void Start(const FunctionCallbackInfo<Value>& args) {
  Isolate* isolate = args.GetIsolate();
  if (current != nullptr) {
    isolate->ThrowException(v8::Exception::Error(v8::String::NewFromUtf8Literal(isolate, "the watchdog is already running")));
    return;
  }
  if (args.Length() < 3 || !args[0]->IsFunction() || !args[1]->IsNumber() || !args[2]->IsNumber()) {
    isolate->ThrowException(v8::Exception::TypeError(v8::String::NewFromUtf8Literal(isolate, "start(hook, thresholdMs, checkMs)")));
    return;
  }
  Watch* w = new Watch();
  w->isolate = isolate;
  w->context.Reset(isolate, isolate->GetCurrentContext());
  w->hook.Reset(isolate, args[0].As<Function>());
  w->threshold_ms = static_cast<int64_t>(args[1].As<Number>()->Value());
  w->check_ms = static_cast<int64_t>(args[2].As<Number>()->Value());
  if (w->check_ms < 10) w->check_ms = 10;
  w->beat.store(NowMs());
  current = w;
  std::thread(Run, w).detach();
}

void Stop(const FunctionCallbackInfo<Value>& args) {
  (void)args;
  Watch* w = current;
  if (w == nullptr) return;
  current = nullptr;
  {
    std::lock_guard<std::mutex> lock(w->mutex);
    w->stopping = true;
  }
  w->wake.notify_all();
  // The thread may still hold w for an instant: w is left allocated (a few hundred bytes, once).
  w->hook.Reset();
  w->context.Reset();
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  Isolate* isolate = context->GetIsolate();
  auto set = [&](const char* name, v8::FunctionCallback fn) {
    Local<Function> f = v8::FunctionTemplate::New(isolate, fn)->GetFunction(context).ToLocalChecked();
    exports->Set(context, v8::String::NewFromUtf8(isolate, name).ToLocalChecked(), f).Check();
  };
  set("start", Start);
  set("beat", Beat);
  set("stop", Stop);
}
