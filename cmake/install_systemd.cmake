# Install-time script (install(SCRIPT) from cmake/install.cmake): writes the
# systemd unit ib-stream-server.service and the example environment file
# with the paths of the prefix being installed to.
#
#   prefix /usr (the .deb):  /usr/lib/systemd/system/ib-stream-server.service,
#                            /etc/ib-stream/env
#   any other prefix P:      P/lib/systemd/system/..., P/etc/ib-stream/env
#                            (systemd also reads /usr/local/lib/systemd/system)
#
# An environment file already at the destination is kept (it holds the
# administrator's settings); the example is then written beside it as
# env.example; it may hold the API key: mode 0640. Inputs, set by
# install(CODE): IBS_PACKAGING_DIR, IBS_BUILD_DIR (where the unit is
# configured), IBS_BINDIR, IBS_DOCDIR (relative to the prefix).
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(IBS_SYSCONFDIR "/etc")
else()
  set(IBS_SYSCONFDIR "${prefix}/etc")
endif()
set(IBS_FULL_BINDIR "${prefix}/${IBS_BINDIR}")
set(IBS_FULL_DOCDIR "${prefix}/${IBS_DOCDIR}")
set(IBS_ENV_FILE "${IBS_SYSCONFDIR}/ib-stream/env")

set(stage "${IBS_BUILD_DIR}/packaging-stage")
file(MAKE_DIRECTORY "${stage}")
configure_file("${IBS_PACKAGING_DIR}/ib-stream-server.service.in"
               "${stage}/ib-stream-server.service" @ONLY)
file(INSTALL "${stage}/ib-stream-server.service" DESTINATION "${prefix}/lib/systemd/system"
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

set(env_name env)
if(EXISTS "$ENV{DESTDIR}${IBS_ENV_FILE}")
  set(env_name env.example)
  message(STATUS "Keeping $ENV{DESTDIR}${IBS_ENV_FILE}; the example goes to env.example")
endif()
file(INSTALL "${IBS_PACKAGING_DIR}/ib-stream.env" DESTINATION "${IBS_SYSCONFDIR}/ib-stream"
     RENAME ${env_name} FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
