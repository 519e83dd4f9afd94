# Written for pinbot's tests (tests/scanners/test_contract.py): a seed the fuzzer mutates.
# A periodic batch job in the style of the Nomad documentation, with Podman tasks.
job "report" {
  type = "batch"

  periodic {
    crons            = ["@daily"]
    prohibit_overlap = true
  }

  group "report" {
    task "export" {
      driver = "podman"
      config {
        image   = "quay.io/acme/exporter:1.8"
        command = "export"
        args    = ["--since", "24h", "--out", "${NOMAD_ALLOC_DIR}/data/report.csv"]
      }
    }

    task "upload" {
      driver = "docker"
      config {
        image      = "amazon/aws-cli:2.15.30"
        entrypoint = ["/bin/sh", "-c"]
        args       = [<<-EOT
          aws s3 cp "$NOMAD_ALLOC_DIR/data/report.csv" "s3://acme-reports/$(date +%F).csv"
          EOT
        ]
      }
      lifecycle {
        hook = "poststop"
      }
    }

    task "archive" {
      driver = "docker"
      config {
        image = "oci-archive:/opt/images/archiver.tar"
      }
    }
  }
}
