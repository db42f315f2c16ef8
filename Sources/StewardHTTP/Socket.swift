import StewardSystem
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed socket call, with the call's name and the system's message.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public var description: String { "\(call) failed: \(String(cString: strerror(errno)))" }
}

/// The few POSIX socket calls the server makes, with errors turned into `SocketError`.
enum Socket {
    #if canImport(Glibc)
    static let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    static let streamType = SOCK_STREAM
    #endif

    /// A non-blocking listening socket bound to `host:port` (IPv4 or IPv6 literal).
    static func makeListener(host: String, port: Int) throws -> OwnedDescriptor {
        guard (0...65535).contains(port) else { throw SocketError(call: "bind (port \(port) out of range)", errno: EINVAL) }
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        let family: Int32
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            family = AF_INET
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port)).bigEndian
        } else if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            family = AF_INET6
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port)).bigEndian
        } else {
            throw SocketError(call: "bind (host '\(host)' is not an IP address)", errno: EINVAL)
        }
        let number = socket(family, streamType, 0)
        guard number >= 0 else { throw SocketError(call: "socket", errno: errno) }
        // Owned from here on: a throw below closes it.
        let listener = OwnedDescriptor(adopting: number)
        let outcome = listener.withDescriptor { fd in
            bindAndListen(fd, family: family, v4: &v4, v6: &v6, host: host, port: port)
        }
        switch outcome {
        case .some(nil): return listener
        case .some(let failure?): throw failure
        case .none: throw SocketError(call: "socket", errno: EBADF)
        }
    }

    /// Binds `fd`, listens, and makes it non-blocking and close-on-exec; the failure if any.
    private static func bindAndListen(_ fd: Int32, family: Int32, v4: inout sockaddr_in, v6: inout sockaddr_in6,
                               host: String, port: Int) -> SocketError? {
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if family == AF_INET {
            bound = withUnsafePointer(to: &v4) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            bound = withUnsafePointer(to: &v6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard bound == 0 else { return SocketError(call: "bind to \(host):\(port)", errno: errno) }
        guard listen(fd, SOMAXCONN) == 0 else { return SocketError(call: "listen", errno: errno) }
        setNonBlocking(fd)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return nil
    }

    static func boundPort(_ fd: Int32) throws -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw SocketError(call: "getsockname", errno: errno) }
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer -> Int in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    /// Non-blocking, close-on-exec, and no Nagle delay: responses go out in one write.
    static func configureAccepted(_ fd: Int32) {
        setNonBlocking(fd)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        #if canImport(Darwin)
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    /// Answers a connection over the cap with 503 and closes it, without blocking.
    static func refuse(_ client: OwnedDescriptor) {
        let body = "Too many connections.\n"
        let response = Array("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nRetry-After: 1\r\nConnection: close\r\n\r\n\(body)".utf8)
        _ = client.withDescriptor { fd in
            _ = response.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, sendFlags) }
            _ = shutdown(fd, Int32(SHUT_WR))
        }
        client.close()
    }

    /// The next pending connection on `listener`, owned by the caller, or the errno of `accept`.
    static func acceptConnection(_ listener: Int32) -> Result<OwnedDescriptor, SocketError> {
        let client = accept(listener, nil, nil)
        guard client >= 0 else { return .failure(SocketError(call: "accept", errno: errno)) }
        return .success(OwnedDescriptor(adopting: client))
    }

    #if canImport(Glibc)
    static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    static let sendFlags: Int32 = 0
    #endif
}
