// run_blocking: runs a blocking call (a speech decode, a model generation)
// on a worker pool and resumes the calling coroutine on its own executor
// when it is done, so I/O threads never block on inference.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <type_traits>

namespace scribepod::http {

template <typename F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_blocking(boost::asio::thread_pool& pool,
                                                              F fn) {
  using T = std::invoke_result_t<F&>;
  // Results travel as optionals: asio's completion needs a default-constructible value.
  std::optional<T> out = co_await boost::asio::co_spawn(
      pool,
      [fn = std::move(fn)]() mutable -> boost::asio::awaitable<std::optional<T>> {
        co_return std::optional<T>(fn());
      },
      boost::asio::use_awaitable);
  co_return std::move(*out);
}

}  // namespace scribepod::http
