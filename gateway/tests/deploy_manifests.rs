//! `deploy/` against the binary it deploys. No container engine runs here, so these tests read
//! every YAML file, the Dockerfile and the nginx configuration, and check that commands parse as
//! `tsunagi` flags, ports agree with the configured listen addresses, probe paths are routes
//! that answer, selectors select the pods, and referenced files exist; then they run the
//! binary the way the Dockerfile does and probe it with the image's HEALTHCHECK command.

mod common;

use clap::Parser;
use common::TestServer;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tsunagi_gateway::cli::Cli;
use tsunagi_gateway::config::Config;
use yaml_rust2::{Yaml, YamlLoader};

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn yaml_files(directory: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(directory).expect("read deploy/") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(yaml_files(&path));
        } else if path
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml")
        {
            found.push(path);
        }
    }
    found.sort();
    found
}

fn load(path: &Path) -> Vec<Yaml> {
    YamlLoader::load_from_str(&read(path))
        .unwrap_or_else(|error| panic!("{} is not YAML: {error}", path.display()))
}

fn one(path: &Path) -> Yaml {
    load(path).into_iter().next().expect("one document")
}

fn strings(list: &Yaml) -> Vec<String> {
    list.as_vec()
        .unwrap_or_else(|| panic!("not a list: {list:?}"))
        .iter()
        .map(|item| item.as_str().expect("a string").to_owned())
        .collect()
}

/// Panics unless `args` are a valid `tsunagi` command line.
fn assert_cli_accepts(args: &[String], context: &str) {
    let line = std::iter::once("tsunagi".to_owned()).chain(args.iter().cloned());
    if let Err(error) = Cli::try_parse_from(line) {
        panic!(
            "{context}: `tsunagi {}` is refused: {error}",
            args.join(" ")
        );
    }
}

fn port_of(address: &str) -> i64 {
    address
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {address}"))
}

/// The cluster configuration file (ConfigMap and compose), parsed as the gateway parses it.
fn cluster_config() -> Config {
    let config = Config::from_toml(&read(&deploy_dir().join("kubernetes/tsunagi.toml")))
        .expect("kubernetes/tsunagi.toml is a valid configuration");
    config.validate().expect("and its values make sense");
    config
}

#[test]
fn every_yaml_file_parses() {
    let files = yaml_files(&deploy_dir());
    assert!(files.len() >= 8, "{files:?}");
    for file in files {
        assert!(!load(&file).is_empty(), "{} is empty", file.display());
    }
}

#[test]
fn the_kubernetes_deployment_matches_the_binary() {
    let directory = deploy_dir().join("kubernetes");
    let config = cluster_config();
    let deployment = one(&directory.join("deployment.yaml"));
    assert_eq!(deployment["kind"].as_str(), Some("Deployment"));
    assert!(deployment["spec"]["replicas"].as_i64() >= Some(2));
    let pod = &deployment["spec"]["template"];
    let labels = &pod["metadata"]["labels"];
    assert_eq!(&deployment["spec"]["selector"]["matchLabels"], labels);
    let container = &pod["spec"]["containers"][0];
    let args = strings(&container["args"]);
    assert_cli_accepts(&args, "deployment.yaml");
    // The config file the args name is the mounted ConfigMap.
    let config_path = &args[args
        .iter()
        .position(|arg| arg == "--config")
        .expect("--config")
        + 1];
    let mount = container["volumeMounts"]
        .as_vec()
        .expect("mounts")
        .iter()
        .find(|mount| config_path.starts_with(mount["mountPath"].as_str().unwrap_or("-")))
        .expect("the config path is mounted");
    let volume = pod["spec"]["volumes"]
        .as_vec()
        .expect("volumes")
        .iter()
        .find(|volume| volume["name"] == mount["name"])
        .expect("the mount's volume");
    let kustomization = one(&directory.join("kustomization.yaml"));
    let generated = &kustomization["configMapGenerator"][0];
    assert_eq!(volume["configMap"]["name"], generated["name"]);
    assert!(config_path.ends_with(generated["files"][0].as_str().expect("file")));
    // Ports: named, and the ones the configuration listens on.
    let ports: Vec<(String, i64)> = container["ports"]
        .as_vec()
        .expect("ports")
        .iter()
        .map(|port| {
            (
                port["name"].as_str().expect("named").to_owned(),
                port["containerPort"].as_i64().expect("number"),
            )
        })
        .collect();
    assert!(ports.contains(&("http".into(), port_of(&config.listen))));
    let mllp = config.mllp.listen.as_deref().expect("MLLP listens");
    assert!(ports.contains(&("mllp".into(), port_of(mllp))));
    // Probes: routes that exist (see probe_paths_answer), on the HTTP port.
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/readyz")
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"].as_str(),
        Some("/healthz")
    );
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(container[probe]["httpGet"]["port"].as_str(), Some("http"));
    }
    // The database URL comes from a Secret, never from the manifest.
    let env = container["env"].as_vec().expect("env");
    let db = env
        .iter()
        .find(|variable| variable["name"].as_str() == Some("TSUNAGI_DB"))
        .expect("TSUNAGI_DB");
    assert!(db["value"].is_badvalue(), "TSUNAGI_DB must not be inline");
    assert!(db["valueFrom"]["secretKeyRef"]["name"].as_str().is_some());
    assert!(container["resources"]["requests"]["cpu"].as_str().is_some());
    assert!(pod["spec"]["securityContext"]["runAsNonRoot"].as_bool() == Some(true));
    // Longer than the MLLP drain the binary waits for after the HTTP drain.
    assert!(pod["spec"]["terminationGracePeriodSeconds"].as_i64() > Some(30));

    let service = one(&directory.join("service.yaml"));
    assert_eq!(&service["spec"]["selector"], labels);
    let names: BTreeSet<String> = ports.iter().map(|(name, _)| name.clone()).collect();
    for port in service["spec"]["ports"].as_vec().expect("service ports") {
        let target = port["targetPort"].as_str().expect("named target port");
        assert!(
            names.contains(target),
            "service targets unknown port {target}"
        );
    }
    let budget = one(&directory.join("pdb.yaml"));
    assert_eq!(&budget["spec"]["selector"]["matchLabels"], labels);
    assert!(budget["spec"]["minAvailable"].as_i64() >= Some(1));

    let job = one(&directory.join("migrate-job.yaml"));
    let job_container = &job["spec"]["template"]["spec"]["containers"][0];
    assert_cli_accepts(&strings(&job_container["args"]), "migrate-job.yaml");
    assert_eq!(job_container["image"], container["image"]);

    for resource in strings(&kustomization["resources"]) {
        assert!(
            directory.join(&resource).is_file(),
            "{resource} is listed but missing"
        );
    }
}

/// A compose service with its `<<` merge key applied.
fn merged(service: &Yaml) -> yaml_rust2::yaml::Hash {
    let mut fields = service.as_hash().expect("a service").clone();
    if let Some(Yaml::Hash(base)) = fields.remove(&Yaml::String("<<".into())) {
        for (key, value) in base {
            fields.entry(key).or_insert(value);
        }
    }
    fields
}

#[test]
fn the_compose_files_match_the_binary() {
    let directory = deploy_dir();
    let config = cluster_config();
    for file in ["compose.yaml", "compose.single.yaml"] {
        let compose = one(&directory.join(file));
        let services = compose["services"].as_hash().expect("services");
        let mut gateways = 0;
        for (name, service) in services {
            let service = merged(service);
            let field = |key: &str| service.get(&Yaml::String(key.into())).cloned();
            if field("image").and_then(|image| image.as_str().map(str::to_owned))
                != Some("tsunagi:dev".into())
            {
                continue;
            }
            if let Some(command) = field("command") {
                assert_cli_accepts(&strings(&command), &format!("{file} {name:?}"));
            }
            if let Some(Yaml::Array(volumes)) = field("volumes") {
                for volume in volumes {
                    let source = volume
                        .as_str()
                        .expect("volume")
                        .split(':')
                        .next()
                        .unwrap_or("");
                    if source.starts_with("./") {
                        assert!(
                            directory.join(source).exists(),
                            "{file}: {source} is missing"
                        );
                    }
                }
            }
            if strings(&field("command").unwrap_or(Yaml::Array(vec![Yaml::String("serve".into())])))
                [0]
                == "serve"
            {
                gateways += 1;
            }
        }
        let expected = if file == "compose.yaml" { 2 } else { 1 };
        assert_eq!(gateways, expected, "{file}: gateway replicas");
    }
    // The balancer sends HTTP and MLLP to both replicas on the ports they listen on.
    let nginx = read(&directory.join("nginx.conf"));
    let http_port = port_of(&config.listen);
    let mllp_port = port_of(config.mllp.listen.as_deref().expect("MLLP"));
    for replica in ["gateway-1", "gateway-2"] {
        assert!(
            nginx.contains(&format!("server {replica}:{http_port}")),
            "{replica} HTTP"
        );
        assert!(
            nginx.contains(&format!("server {replica}:{mllp_port};")),
            "{replica} MLLP"
        );
    }
}

#[tokio::test]
async fn probe_paths_answer() {
    let server = TestServer::start();
    let root = server.base.trim_end_matches("/fhir").to_owned();
    for path in ["/healthz", "/readyz", "/metrics"] {
        let response = server
            .client
            .get(format!("{root}{path}"))
            .send()
            .await
            .expect("probe sent");
        assert_eq!(response.status(), 200, "{path}");
    }
}

/// The JSON array after `instruction` on its line of the Dockerfile (exec form).
fn exec_form(dockerfile: &str, instruction: &str) -> Vec<String> {
    let line = dockerfile
        .lines()
        .find(|line| line.starts_with(instruction))
        .unwrap_or_else(|| panic!("no {instruction} in the Dockerfile"));
    let array = &line[line.find('[').expect("exec form")..];
    serde_json::from_str(array).unwrap_or_else(|error| panic!("{line}: {error}"))
}

/// `ENV` pairs of the Dockerfile (with `\` continuations).
fn env_pairs(dockerfile: &str) -> Vec<(String, String)> {
    let joined = dockerfile.replace("\\\n", " ");
    joined
        .lines()
        .filter(|line| line.starts_with("ENV "))
        .flat_map(|line| {
            line[4..]
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .filter_map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect()
}

#[test]
fn the_binary_runs_and_answers_its_healthcheck_the_way_the_dockerfile_says() {
    let dockerfile = read(&deploy_dir().join("Dockerfile"));
    let entrypoint = exec_form(&dockerfile, "ENTRYPOINT");
    assert_eq!(entrypoint, ["tsunagi"]);
    let command = exec_form(&dockerfile, "CMD");
    assert_cli_accepts(&command, "Dockerfile CMD");
    let healthcheck = exec_form(&dockerfile, "HEALTHCHECK");
    assert_eq!(healthcheck[0], "tsunagi");
    assert_cli_accepts(&healthcheck[1..], "Dockerfile HEALTHCHECK");
    let env = env_pairs(&dockerfile);
    let listen = env
        .iter()
        .find(|(name, _)| name == "TSUNAGI_LISTEN")
        .map(|(_, value)| value.clone())
        .expect("TSUNAGI_LISTEN");
    let exposed: Vec<i64> = dockerfile
        .lines()
        .find(|line| line.starts_with("EXPOSE"))
        .expect("EXPOSE")
        .split_whitespace()
        .skip(1)
        .map(|port| port.parse().expect("port"))
        .collect();
    assert!(
        exposed.contains(&port_of(&listen)),
        "EXPOSE {exposed:?} vs {listen}"
    );

    // Run it: the image's environment, with the port moved to a free one and /data to a temp
    // directory (this is the debug build of the same binary the image builds in release).
    let data = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let binary = env!("CARGO_BIN_EXE_tsunagi");
    let environment: Vec<(String, String)> = env
        .into_iter()
        .map(|(name, value)| match name.as_str() {
            "TSUNAGI_LISTEN" => (name, format!("127.0.0.1:{port}")),
            _ => (
                name,
                value.replace("/data", &data.path().display().to_string()),
            ),
        })
        .collect();
    let mut child = Command::new(binary)
        .args(&command)
        .envs(environment.clone())
        .env("TSUNAGI_LOG", "warn")
        .current_dir(data.path())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the image command");
    let healthy = || {
        Command::new(binary)
            .args(&healthcheck[1..])
            .envs(environment.clone())
            .stderr(Stdio::null())
            .status()
            .expect("run the healthcheck")
            .success()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !healthy() {
        assert!(Instant::now() < deadline, "the healthcheck never passed");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        data.path().join("tsunagi.db").is_file(),
        "TSUNAGI_DB was not used"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("SIGTERM");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "stopped with {status}");
    assert!(!healthy(), "the healthcheck passes with nothing listening");
}
