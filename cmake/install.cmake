# Installation and the Debian package (README "Install").
#
#   cmake --build build --target executables   # the four installed programs only
#   cmake --install build [--prefix /usr]       # or: cd build && cpack -G DEB
#
# Installs the executables in bin, README.md and docs/ in share/doc/ib-stream,
# and the systemd unit ib-stream-server.service with its example environment
# file (packaging/). The unit and the environment file name absolute paths
# that depend on the prefix used at install time (cpack installs with /usr,
# where the environment file goes to /etc), so cmake/install_systemd.cmake
# writes them when installing, not when configuring. The web assets (API
# docs, dashboard) are compiled into ib-stream-server: nothing to install.
#
# `make install` and cpack do not build the whole tree first
# (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY): the tests, fuzzers and benchmarks are
# never installed. Build the `executables` target before installing.
include(GNUInstallDirs)

set(IBS_INSTALLED_EXECUTABLES ib-stream-server ib-stream ib-studies ib-tws-sim)
add_custom_target(executables DEPENDS ${IBS_INSTALLED_EXECUTABLES})
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS ${IBS_INSTALLED_EXECUTABLES} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(CODE "set(IBS_PACKAGING_DIR \"${CMAKE_CURRENT_SOURCE_DIR}/packaging\")
set(IBS_BUILD_DIR \"${CMAKE_CURRENT_BINARY_DIR}\")
set(IBS_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
set(IBS_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")")
install(SCRIPT cmake/install_systemd.cmake)

# ------------------------------------------------------------ cpack -G DEB
set(CPACK_PACKAGE_NAME ib-stream)
set(CPACK_PACKAGE_VENDOR "ib-stream")
set(CPACK_PACKAGE_CONTACT "ib-stream maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Interactive Brokers market data over HTTP, Server-Sent Events and WebSocket")
set(CPACK_PACKAGE_DESCRIPTION
    "ib-stream-server connects to TWS or IB Gateway and streams tick-by-tick data (trades, quotes, \
midpoints) to any number of clients over SSE and WebSocket, records tracked contracts into \
SQLite day files and serves their history. Also ib-stream (command-line streamer), ib-studies \
(order-flow delta studies) and ib-tws-sim (a TWS simulator). The systemd unit \
ib-stream-server.service is installed but neither enabled nor started.")
set(CPACK_GENERATOR DEB)
# DESTDIR staging with the prefix /usr (CPACK_INSTALL_PREFIX; whatever
# CMAKE_INSTALL_PREFIX the tree was configured with): the install script
# sees CMAKE_INSTALL_PREFIX=/usr and writes the unit and /etc/ib-stream/env
# with their final paths.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Shared libraries (libc6, libstdc++6, libsqlite3-0, Boost JSON/URL, spdlog,
# fmt) from dpkg-shlibdeps (package dpkg-dev); tzdata: the trading-hours
# logic reads /usr/share/zoneinfo.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "tzdata")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/deb/conffiles ${CMAKE_CURRENT_SOURCE_DIR}/packaging/deb/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/deb/prerm ${CMAKE_CURRENT_SOURCE_DIR}/packaging/deb/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
