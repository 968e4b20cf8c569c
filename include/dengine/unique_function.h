#pragma once

// A move-only std::function (C++23's std::move_only_function, which libstdc++ 12 lacks in
// C++20): completions hold promises and Asio handlers, which cannot be copied.

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace dengine {

template <typename Signature>
class UniqueFunction;

template <typename R, typename... Args>
class UniqueFunction<R(Args...)> {
 public:
  UniqueFunction() = default;
  UniqueFunction(std::nullptr_t) noexcept {}  // NOLINT(google-explicit-constructor)
  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, UniqueFunction> &&
                                        !std::is_same_v<std::decay_t<F>, std::nullptr_t>>>
  UniqueFunction(F&& f)  // NOLINT(google-explicit-constructor)
      : callable_(std::make_unique<Callable<std::decay_t<F>>>(std::forward<F>(f))) {}

  UniqueFunction(UniqueFunction&&) noexcept = default;
  UniqueFunction& operator=(UniqueFunction&&) noexcept = default;

  explicit operator bool() const { return callable_ != nullptr; }
  R operator()(Args... args) { return callable_->call(std::forward<Args>(args)...); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual R call(Args... args) = 0;
  };
  template <typename F>
  struct Callable final : Base {
    explicit Callable(F&& callable) : function(std::move(callable)) {}
    explicit Callable(const F& callable) : function(callable) {}
    R call(Args... args) override { return function(std::forward<Args>(args)...); }
    F function;
  };
  std::unique_ptr<Base> callable_;
};

}  // namespace dengine
