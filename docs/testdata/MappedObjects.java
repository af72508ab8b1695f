// Prints the path of every shared object this JVM has mapped, one per
// line, from /proc/self/maps. Run with `java MappedObjects.java`.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;

public class MappedObjects {
  public static void main(String[] args) throws Exception {
    TreeSet<String> paths = new TreeSet<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
      int slash = line.indexOf('/');
      if (slash >= 0 && line.contains(".so")) {
        paths.add(line.substring(slash));
      }
    }
    paths.forEach(System.out::println);
  }
}
