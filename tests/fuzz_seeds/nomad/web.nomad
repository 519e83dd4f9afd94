# Written for pinbot's tests (tests/scanners/test_contract.py): a seed the fuzzer mutates.
# A service job in the style of the Nomad job specification documentation.
variable "redis_tag" {
  type    = string
  default = "7.2"
}

job "web" {
  datacenters = ["dc1"]
  type        = "service"

  update {
    max_parallel = 1
    min_healthy_time = "10s"
  }

  group "frontend" {
    count = 3

    network {
      mode = "bridge"
      port "http" { to = 8080 }
    }

    service {
      name = "web"
      port = "http"

      connect {
        sidecar_service {}
        sidecar_task {
          driver = "docker"
          config {
            image = "envoyproxy/envoy:v1.29.2"
          }
        }
      }
    }

    task "server" {
      driver = "docker"

      config {
        image = "ghcr.io/acme/web:2.3.1"
        ports = ["http"]
        args  = ["--listen", ":${NOMAD_PORT_http}"]
        auth {
          username = "robot"
          password = "${REGISTRY_PASSWORD}"
        }
      }

      template {
        data        = <<EOH
REDIS_ADDR={{ range service "redis" }}{{ .Address }}:{{ .Port }}{{ end }}
LOG_LEVEL="info"
EOH
        destination = "local/env"
        env         = true
      }

      resources {
        cpu    = 500 # MHz
        memory = 256
      }
    }

    task "cache" {
      config {
        image = "redis:${var.redis_tag}"
      }
      driver = "docker"
    }

    task "metrics" {
      driver = "podman"
      config {
        image = "docker://quay.io/prometheus/node-exporter:v1.7.0"
      }
    }

    task "migrate" {
      driver = "exec"
      config {
        command = "/usr/local/bin/migrate"
        /* exec runs no image */
        args = ["up"]
      }
      lifecycle {
        hook    = "prestart"
        sidecar = false
      }
    }
  }
}
